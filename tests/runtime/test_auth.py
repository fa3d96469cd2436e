import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from stagewise.runtime.auth import EXPIRED, UNAUTHORIZED, AuthFailure, CognitoVerifier
from stagewise.runtime.model import AuthorizerSpec
from tests.runtime.tokens import CLIENT, POOL, REGION

AUTHORIZER = AuthorizerSpec("auth1", "cognito", ((REGION, POOL),), "Authorization")


@pytest.fixture
def verifier(cognito):
    return CognitoVerifier(endpoint=cognito.endpoint, clients=lambda pool: {CLIENT} if pool == POOL else set())


def refused(verifier, header, scopes=()) -> AuthFailure:
    with pytest.raises(AuthFailure) as info:
        verifier.verify(header, AUTHORIZER, scopes)
    return info.value


def test_valid_id_token_gives_claims_and_jwks_is_cached(verifier, cognito):
    claims = verifier.verify(cognito.token(), AUTHORIZER)
    assert claims["sub"] == "user-1"
    assert verifier.verify("Bearer " + cognito.token(), AUTHORIZER)["email"] == "a@example.com"
    assert cognito.fetches == 1


def test_missing_token(verifier):
    for header in (None, "", "   "):
        failure = refused(verifier, header)
        assert (failure.status, failure.message) == (401, UNAUTHORIZED)


def test_expired_token(verifier, cognito):
    failure = refused(verifier, cognito.token(exp=int(time.time()) - 5))
    assert (failure.status, failure.message) == (401, EXPIRED)


def test_wrong_issuer(verifier, cognito):
    failure = refused(verifier, cognito.token(iss=f"https://cognito-idp.{REGION}.amazonaws.com/other_pool"))
    assert (failure.status, failure.message) == (401, UNAUTHORIZED)


def test_wrong_audience(verifier, cognito):
    assert refused(verifier, cognito.token(aud="someone-else")).status == 401


def test_bad_signature(verifier, cognito):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert refused(verifier, cognito.token(key=other)).message == UNAUTHORIZED


def test_garbage_token(verifier):
    assert refused(verifier, "not-a-jwt").status == 401


def test_access_token_only_with_scopes(verifier, cognito):
    access = cognito.token(token_use="access", aud=None, client_id=CLIENT, scope="notes/read openid")
    assert refused(verifier, access).status == 401  # no scopes on the method → id token wanted
    assert verifier.verify(access, AUTHORIZER, ("notes/read",))["client_id"] == CLIENT
    assert refused(verifier, access, ("notes/write",)).status == 401
    assert refused(verifier, cognito.token(), ("notes/read",)).status == 401


def test_unreachable_jwks_is_a_500(cognito):
    verifier = CognitoVerifier(endpoint="http://127.0.0.1:9", clients=lambda pool: {CLIENT}, timeout_s=1)
    assert refused(verifier, cognito.token()).status == 500


def test_prefetch_fetches_the_jwks_before_the_first_request(verifier, cognito):
    verifier.prefetch([(REGION, POOL)])
    assert cognito.fetches == 1
    assert verifier.verify(cognito.token(), AUTHORIZER)["sub"] == "user-1"
    assert cognito.fetches == 1  # the first request found the keys ready


def test_a_failed_prefetch_is_left_to_the_request_to_report(cognito):
    verifier = CognitoVerifier(endpoint="http://127.0.0.1:9", clients=lambda pool: {CLIENT}, timeout_s=1)
    verifier.prefetch([(REGION, POOL)])  # no exception: the cloud may still be starting
    assert refused(verifier, cognito.token()).status == 500
