"""One-time submission tokens (idempotency keys) for create forms.

A double click, a browser that resends a POST, or a registrar who presses 保存 twice must not
create two records. The page issues a token into a hidden field on GET; a successful POST claims
it in the cache with ``cache.add`` (atomic: ``SET NX`` on Redis, a lock on locmem), so only the
first of two POSTs carrying the same token writes anything. Usage in a create view::

    once = SubmissionToken.for_request(request, "students:create")
    if request.method == "POST" and not once.valid:
        form.add_error(None, once.invalid_message)      # re-rendered with a fresh token
    elif request.method == "POST" and form.is_valid():
        try:
            with once.claim() as claim:                  # raises AlreadySubmitted for a repeat
                obj = services.thing_create(actor=request.user, ...)
                claim.url = reverse("things:detail", args=[obj.pk])
        except AlreadySubmitted as repeat:
            messages.warning(request, repeat.message)
            return redirect(repeat.url or fallback)
        except ValidationError as exc:                   # the claim was released: fix and resend
            ...
        else:
            return redirect(claim.url)
    # template: {{ once.hidden }} inside the <form>

* The token is a random nonce signed (``TimestampSigner``) with the purpose and the user, so a
  forged token, another user's or another form's is refused (``valid`` False) instead of being
  claimed; it expires after ``MAX_AGE``.
* A failed POST keeps its token (the re-rendered form carries it), so the corrected form can be
  sent again: a refusal inside ``claim()`` (any exception) releases the claim.
* A repeat arriving while the first POST is still being written waits up to ``WAIT_SECONDS`` for
  its outcome, then leads to the record the first created (``AlreadySubmitted.url``).

The claims live in the default cache: Redis when ``REDIS_URL`` is set (shared by every process, as
production needs); the locmem fallback guards one process only (development, tests).
"""

import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.core import signing
from django.core.cache import cache
from django.utils.html import format_html

FIELD = "once_token"
# How long a form may stay open before its token expires (a registrar may leave a form overnight).
MAX_AGE = 24 * 3600
# Claims outlive the tokens, so a resend of an accepted form is recognised as long as it is valid.
CLAIM_TIMEOUT = MAX_AGE + 3600
# How long a repeat waits for the first POST (a create takes well under a second).
WAIT_SECONDS = 5.0
_PENDING = "pending"
_DONE = "done:"

ALREADY_SUBMITTED = "该表单已提交，请勿重复提交"
STILL_RUNNING = "该表单已提交，正在处理，请勿重复提交"
INVALID = "表单已过期或无效，未保存任何内容；请核对后重新提交"


class AlreadySubmitted(Exception):
    """A POST whose token another POST already claimed. ``url``: where the first submission's
    result is ("" when it was still being written); ``message``: what to tell the user (Chinese)."""

    def __init__(self, url: str = "", message: str = ALREADY_SUBMITTED):
        super().__init__(message)
        self.url = url
        self.message = message


@dataclass
class Claim:
    """The first claim of a token. Set ``url`` to the created record's page inside the ``with``
    block; a repeat of the token is sent there."""

    url: str = ""


class SubmissionToken:
    """One form's submission token for one request: ``value`` for the hidden field (``hidden``),
    ``valid`` for a POST that carried a genuine token, ``claim()`` to guard the write."""

    invalid_message = INVALID

    def __init__(self, purpose: str, user_key: str, value: str, valid: bool):
        self.purpose = purpose
        self._user_key = user_key
        self.value = value
        self.valid = valid

    @classmethod
    def for_request(cls, request, purpose: str) -> "SubmissionToken":
        """The token of ``request`` for the form named ``purpose`` (e.g. "students:create").

        GET (or any non-POST): a new token. POST: the posted token when it is genuine (signed for
        this purpose and user, not older than MAX_AGE), kept so that a re-rendered form resends
        it; otherwise a new token with ``valid`` False. Never raises for bad input.
        """
        user_key = str(getattr(request.user, "pk", "") or "")
        if request.method == "POST":
            posted = request.POST.get(FIELD, "")
            if _nonce(posted, purpose, user_key):
                return cls(purpose, user_key, posted, valid=True)
            return cls(purpose, user_key, issue(purpose, user_key), valid=False)
        return cls(purpose, user_key, issue(purpose, user_key), valid=True)

    @property
    def hidden(self) -> str:
        """The hidden input carrying the token (safe HTML)."""
        return format_html('<input type="hidden" name="{}" value="{}">', FIELD, self.value)

    def _key(self) -> str:
        nonce = _nonce(self.value, self.purpose, self._user_key) if self.valid else ""
        if not nonce:
            raise ValueError("claim() needs the valid token of a POST")
        return f"xueji:once:{self.purpose}:{nonce}"

    @contextmanager
    def claim(self, *, wait: float = WAIT_SECONDS):
        """Claim the token for this POST and run the write inside the ``with`` block.

        Yields a ``Claim``; on leaving the block normally the token is marked done with
        ``Claim.url``; on any exception the claim is released (the same token may be sent again)
        and the exception propagates. Raises ``AlreadySubmitted`` when another POST holds or used
        the token (after waiting up to ``wait`` seconds for a running one to finish).
        ``ValueError`` when the token is not ``valid`` (check ``valid`` first).
        """
        key = self._key()
        deadline = time.monotonic() + wait
        pause = 0.02
        while not cache.add(key, _PENDING, CLAIM_TIMEOUT):
            state = cache.get(key)
            if isinstance(state, str) and state.startswith(_DONE):
                raise AlreadySubmitted(state.removeprefix(_DONE))
            if time.monotonic() >= deadline:
                raise AlreadySubmitted("", STILL_RUNNING)
            if state is not None:  # still being written; None: released or expired meanwhile, retry now
                time.sleep(pause)
                pause = min(pause * 2, 0.25)
        claim = Claim()
        try:
            yield claim
        except BaseException:
            cache.delete(key)
            raise
        cache.set(key, _DONE + claim.url, CLAIM_TIMEOUT)


def issue(purpose: str, user_key: str = "") -> str:
    """A new token for form ``purpose`` and user ``user_key`` (the user's pk as text): a random
    128-bit nonce, timestamped and signed with SECRET_KEY."""
    return _signer(purpose, user_key).sign(secrets.token_urlsafe(16))


def _nonce(token: str, purpose: str, user_key: str) -> str:
    """The nonce of a genuine, unexpired ``token``; "" for anything else."""
    if not token or len(token) > 200:
        return ""
    try:
        return _signer(purpose, user_key).unsign(token, max_age=MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return ""


def _signer(purpose: str, user_key: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"xueji.once:{purpose}:{user_key}")
