"""xueji.once: one-time submission tokens. Issued on GET, kept on a failed POST, claimed once
(cache.add), released when the write is refused; forged, foreign and stale tokens are not valid.
The cache is Redis whenever REDIS_URL is set, so that every web process sees the same claims."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import RequestFactory

from xueji import once
from xueji.once import FIELD, AlreadySubmitted, SubmissionToken, issue

PURPOSE = "tests:thing_create"
USER = SimpleNamespace(pk=7)
ROOT = Path(__file__).resolve().parents[2]


def get_token(user=USER, purpose=PURPOSE) -> SubmissionToken:
    request = RequestFactory().get("/")
    request.user = user
    return SubmissionToken.for_request(request, purpose)


def post_token(value, user=USER, purpose=PURPOSE) -> SubmissionToken:
    request = RequestFactory().post("/", {FIELD: value} if value is not None else {})
    request.user = user
    return SubmissionToken.for_request(request, purpose)


def test_each_get_issues_a_new_token_that_a_post_accepts_and_keeps():
    first, second = get_token(), get_token()
    assert first.value != second.value
    posted = post_token(first.value)
    assert posted.valid and posted.value == first.value
    assert f'name="{FIELD}" value="{first.value}"' in posted.hidden


@pytest.mark.parametrize("value", [None, "", "abc", "x" * 5000, "a:b:c", "\x00"])
def test_a_missing_or_forged_token_is_not_valid_and_a_new_one_is_issued(value):
    posted = post_token(value)
    assert not posted.valid
    assert post_token(posted.value).valid  # the re-rendered form can be sent


def test_a_token_of_another_user_or_another_form_is_not_valid():
    value = get_token().value
    assert not post_token(value, user=SimpleNamespace(pk=8)).valid
    assert not post_token(value, purpose="tests:other_create").valid


def test_a_stale_token_is_not_valid(monkeypatch):
    value = get_token().value
    monkeypatch.setattr(once, "MAX_AGE", -1)
    assert not post_token(value).valid


def test_the_first_claim_runs_and_a_repeat_is_sent_to_its_result():
    value = issue(PURPOSE, "7")
    with post_token(value).claim() as claim:
        claim.url = "/things/1/"
    with pytest.raises(AlreadySubmitted) as repeat, post_token(value).claim():
        pytest.fail("a repeat must not run")
    assert repeat.value.url == "/things/1/" and repeat.value.message == "该表单已提交，请勿重复提交"


def test_a_refused_write_releases_the_token_for_the_corrected_form():
    value = issue(PURPOSE, "7")
    with pytest.raises(ValueError), post_token(value).claim():
        raise ValueError("refused")
    ran = []
    with post_token(value).claim() as claim:
        ran.append(True)
        claim.url = "/things/2/"
    assert ran == [True]


def test_a_repeat_during_a_slow_first_write_gives_up_after_the_wait():
    value = issue(PURPOSE, "7")
    with post_token(value).claim(), pytest.raises(AlreadySubmitted) as repeat, post_token(value).claim(wait=0.05):
        pytest.fail("a repeat must not run")
    assert repeat.value.url == "" and "正在处理" in repeat.value.message


def test_a_repeat_waits_for_the_first_write_and_learns_its_result():
    value = issue(PURPOSE, "7")
    claimed = threading.Event()

    def first():
        with post_token(value).claim() as claim:
            claimed.set()
            time.sleep(0.3)
            claim.url = "/things/3/"

    thread = threading.Thread(target=first)
    thread.start()
    assert claimed.wait(5)
    with pytest.raises(AlreadySubmitted) as repeat, post_token(value).claim(wait=5):
        pytest.fail("a repeat must not run")
    thread.join(5)
    assert repeat.value.url == "/things/3/"


def test_claiming_an_invalid_token_is_a_programming_error():
    with pytest.raises(ValueError), post_token("forged").claim():
        pass


def _cache_backend(redis_url: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    if redis_url:
        env["REDIS_URL"] = redis_url
    code = "import xueji.settings as s; print(s.CACHES['default']['BACKEND'])"
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
                            check=True)
    return result.stdout.strip().splitlines()[-1]


def test_the_claims_live_in_redis_when_redis_url_is_set_else_in_process_memory():
    assert _cache_backend("redis://127.0.0.1:6379/0") == "django.core.cache.backends.redis.RedisCache"
    assert _cache_backend("") == "django.core.cache.backends.locmem.LocMemCache"
