"""Signature Version 4 against AWS's own worked example (IAM ListUsers, 2015-08-30, the documented keys)."""

from __future__ import annotations

import datetime as dt
import hashlib

from threadline.botplatforms import sigv4

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
HEADERS = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Host": "iam.amazonaws.com",
           "X-Amz-Date": "20150830T123600Z"}


def test_the_documented_example_canonical_request_signing_key_and_signature():
    request = sigv4.canonical_request("GET", "/", "Action=ListUsers&Version=2010-05-08", HEADERS,
                                      ["content-type", "host", "x-amz-date"], hashlib.sha256(b"").hexdigest())
    assert hashlib.sha256(request.encode()).hexdigest() == (
        "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")
    assert sigv4.signing_key(SECRET, "20150830", "us-east-1", "iam").hex() == (
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
    assert sigv4.signature(SECRET, "20150830T123600Z", "us-east-1", "iam", request) == (
        "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")


def test_sign_adds_the_headers_it_signs_and_a_scoped_credential():
    at = dt.datetime(2015, 8, 30, 12, 36, tzinfo=dt.UTC)
    headers = sigv4.sign("POST", "https://runtime-v2-lex.eu-west-1.amazonaws.com/bots/B/text",
                         headers={"Content-Type": "application/json"}, body=b"{}", access_key="AKIDEXAMPLE",
                         secret_key=SECRET, region="eu-west-1", service="lex", session_token="tok", at=at)
    assert headers["X-Amz-Date"] == "20150830T123600Z"
    assert headers["X-Amz-Content-Sha256"] == hashlib.sha256(b"{}").hexdigest()
    assert headers["Authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/lex/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=")


def test_path_segments_are_encoded_twice_as_for_every_service_but_s3():
    assert sigv4.canonical_uri("/sessions/a%3Ab/text") == "/sessions/a%253Ab/text"
