"""moto's answers are the same with the cloud's speedups (stagewise/cloud/moto_speedups.py) as without.

One subprocess builds the cloud in-process with the speedups held back, makes the same reads of
every protocol (DynamoDB JSON with each AttributeValue type, S3 REST-XML, SQS, SNS and IAM query,
Cognito JSON, EC2 model objects whose attributes are found through moto's aliases) before and after installing them, and compares what botocore parses.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import json, sys, tempfile
    from pathlib import Path
    from stagewise.cloud import moto_speedups, server
    from stagewise.cloud.accounts import client
    from stagewise.cloud.inprocess import in_process

    real_install = moto_speedups.install
    moto_speedups.install = lambda: None  # the baseline: moto as it ships
    app = server.build_app(Path(tempfile.mkdtemp()))
    import moto.core.serialize
    assert moto.core.serialize.AttributePicker.get_possible_keys.__module__ == "moto.core.serialize"

    def make(service):
        return in_process(client("http://127.0.0.1:9", account_id="111111111111", region="us-east-1",
                                 service=service), app)

    ddb, s3, sqs, sns, iam, idp, ec2, logs = (make(s) for s in ("dynamodb", "s3", "sqs", "sns", "iam", "cognito-idp",
                                                                   "ec2", "logs"))
    ddb.create_table(TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    item = {"k": {"S": "a"}, "n": {"N": "1.5"}, "b": {"B": b"\\x00\\x01"}, "ss": {"SS": ["x", "y"]},
            "ns": {"NS": ["1", "2"]}, "bs": {"BS": [b"z"]}, "m": {"M": {"inner": {"BOOL": True}}},
            "l": {"L": [{"NULL": True}, {"S": "q"}]}}
    ddb.put_item(TableName="t", Item=item)
    s3.create_bucket(Bucket="speedup-bucket")
    s3.put_object(Bucket="speedup-bucket", Key="dir/o.txt", Body=b"hello")
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    sns.create_topic(Name="topic")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    pool = idp.create_user_pool(PoolName="p")["UserPool"]["Id"]

    def reads():
        answers = [
            ddb.get_item(TableName="t", Key={"k": {"S": "a"}}),
            ddb.describe_table(TableName="t")["Table"],
            ddb.scan(TableName="t"),
            s3.list_objects_v2(Bucket="speedup-bucket"),
            sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"]),
            sns.list_topics(),
            iam.get_role(RoleName="r"),
            idp.describe_user_pool(UserPoolId=pool)["UserPool"]["Policies"],
            ec2.describe_vpcs(),  # model objects whose attributes take class- and shape-based aliases
            ec2.describe_subnets(),
            ec2.describe_security_groups(),
            logs.describe_log_groups(),
        ]
        for answer in answers:
            if isinstance(answer, dict):
                answer.pop("ResponseMetadata", None)
        return json.dumps(answers, default=str, sort_keys=True)

    before = reads()
    real_install()
    assert moto.core.serialize.AttributePicker.get_possible_keys.__module__ == "stagewise.cloud.moto_speedups"
    after, again = reads(), reads()
    print(json.dumps({"same": before == after == again, "before": before[:3000], "after": after[:3000]}))
''')


def test_answers_are_identical_with_and_without_the_speedups(tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env={"STAGEWISE_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["same"], (result["before"], result["after"])
    assert "\\\\x00\\\\x01" in result["before"]  # the binary attribute made the round trip (bytes, shown by str)
