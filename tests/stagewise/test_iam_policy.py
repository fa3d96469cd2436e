"""IAM policy evaluation: explicit Deny wins, Allow needs a match, wildcards, Not*, policy variables,
conditions — and a condition it does not know never allows."""

from __future__ import annotations

import json

from stagewise.iam_policy import Decision, evaluate

API = "arn:aws:execute-api:us-east-1:111111111111:abc123/dev/GET/notes"
SUB = {"cognito-identity.amazonaws.com:sub": "us-east-1:ann"}


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource, **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_allow_deny_and_implicit_deny() -> None:
    invoke = allow("execute-api:Invoke", "arn:aws:execute-api:us-east-1:111111111111:abc123/dev/*")
    assert evaluate([doc(invoke)], action="execute-api:Invoke", resource=API) is Decision.ALLOW
    assert evaluate([doc(invoke)], action="execute-api:Invoke",
                    resource=API.replace("/dev/", "/prod/")) is Decision.IMPLICIT_DENY
    deny = {"Effect": "Deny", "Action": "execute-api:*", "Resource": "arn:aws:execute-api:*:*:abc123/*/POST/notes"}
    assert evaluate([doc(invoke), doc(deny)], action="execute-api:Invoke", resource=API) is Decision.ALLOW
    deny["Resource"] = "*/GET/notes"  # `*` spans slashes in IAM
    assert evaluate([doc(invoke), doc(deny)], action="execute-api:Invoke", resource=API) is Decision.DENY
    assert evaluate([], action="execute-api:Invoke", resource=API) is Decision.IMPLICIT_DENY


def test_actions_ignore_case_resources_do_not_and_not_forms_invert() -> None:
    assert evaluate([doc(allow("EXECUTE-API:invoke", API))], action="execute-api:Invoke", resource=API) is Decision.ALLOW
    assert evaluate([doc(allow("execute-api:Invoke", API.upper()))], action="execute-api:Invoke",
                    resource=API) is Decision.IMPLICIT_DENY
    everything_but_s3 = {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}
    assert evaluate([doc(everything_but_s3)], action="execute-api:Invoke", resource=API) is Decision.ALLOW
    assert evaluate([doc(everything_but_s3)], action="s3:GetObject", resource="arn:aws:s3:::b/k") is Decision.IMPLICIT_DENY
    single = allow("s3:GetObject", "arn:aws:s3:::b/k?")
    assert evaluate([doc(single)], action="s3:GetObject", resource="arn:aws:s3:::b/k1") is Decision.ALLOW
    assert evaluate([doc(single)], action="s3:GetObject", resource="arn:aws:s3:::b/k12") is Decision.IMPLICIT_DENY


def test_policy_variables_scope_a_user_to_their_own_prefix() -> None:
    own = allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::up/private/${cognito-identity.amazonaws.com:sub}/*")
    mine = "arn:aws:s3:::up/private/us-east-1:ann/a.png"
    theirs = "arn:aws:s3:::up/private/us-east-1:bob/a.png"
    assert evaluate([doc(own)], action="s3:PutObject", resource=mine, variables=SUB) is Decision.ALLOW
    assert evaluate([doc(own)], action="s3:PutObject", resource=theirs, variables=SUB) is Decision.IMPLICIT_DENY
    assert evaluate([doc(own)], action="s3:PutObject", resource=mine) is Decision.IMPLICIT_DENY  # no identity


def test_conditions_and_unknown_operators_fail_closed() -> None:
    conditioned = allow("s3:ListBucket", "arn:aws:s3:::up",
                        Condition={"StringLike": {"s3:prefix": "private/${cognito-identity.amazonaws.com:sub}/*"}})
    assert evaluate([doc(conditioned)], action="s3:ListBucket", resource="arn:aws:s3:::up", variables=SUB,
                    context={"s3:prefix": "private/us-east-1:ann/x"}) is Decision.ALLOW
    assert evaluate([doc(conditioned)], action="s3:ListBucket", resource="arn:aws:s3:::up", variables=SUB,
                    context={"s3:prefix": "private/us-east-1:bob/x"}) is Decision.IMPLICIT_DENY
    unknown = allow("execute-api:Invoke", "*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    assert evaluate([doc(unknown)], action="execute-api:Invoke", resource=API) is Decision.IMPLICIT_DENY
    unknown_deny = {"Effect": "Deny", "Action": "*", "Resource": "*",
                    "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
    assert evaluate([doc(allow("*", "*")), doc(unknown_deny)], action="execute-api:Invoke",
                    resource=API) is Decision.DENY


def test_role_policies_answer_an_expired_entry_while_one_thread_rereads_the_role() -> None:
    """Under load, requests never all stop to re-read an expired role: they get the last policies while
    one background read (five IAM calls, counted here) brings the new ones."""
    import threading
    import time

    import boto3
    from moto import mock_aws

    from stagewise.iam_policy import RolePolicies

    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(doc()))["Role"]
        iam.put_role_policy(RoleName="app", PolicyName="invoke", PolicyDocument=json.dumps(doc(allow("execute-api:Invoke", "*"))))
        reads: list[str] = []

        def slow_read(**_) -> None:  # a busy IAM: a request waiting for this read would show
            reads.append(threading.current_thread().name)
            time.sleep(0.3 if len(reads) > 1 else 0)

        iam.meta.events.register("before-call.iam.ListRolePolicies", slow_read)
        roles = RolePolicies(lambda account: iam, ttl=0.2)
        assert roles.empty()
        first, role_id = roles.of("123456789012", role["Arn"])
        assert role_id == role["RoleId"] and len(first) == 1 and not roles.empty() and len(reads) == 1
        iam.put_role_policy(RoleName="app", PolicyName="more", PolicyDocument=json.dumps(doc(allow("s3:*", "*"))))
        time.sleep(0.25)
        answers = []
        began = time.perf_counter()
        callers = [threading.Thread(target=lambda: answers.append(roles.of("123456789012", role["Arn"])[0]))
                   for _ in range(8)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
        assert time.perf_counter() - began < 0.2  # nobody waited for the re-read …
        assert [len(documents) for documents in answers] == [1] * 8  # … they had the last policies
        deadline = time.monotonic() + 5
        while len(roles.of("123456789012", role["Arn"])[0]) != 2:
            assert time.monotonic() < deadline, "the new policy never came"
            time.sleep(0.01)
        assert len(reads) == 2 and reads[1] == "iam-policies"  # one re-read, in the background
