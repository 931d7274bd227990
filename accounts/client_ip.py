"""The client's address: the one place that answers "who sent this request" for lockouts and the audit log.

django-axes resolves it from the AXES_IPWARE_* settings (through django-ipware), which
xueji/settings.py derives from XUEJI_TRUSTED_PROXY_COUNT: with 0 (the default) the socket's
REMOTE_ADDR, and X-Forwarded-For is ignored so that a client cannot choose its address; with N
reverse proxies in front, the address the outermost one saw, N-th from the right of
X-Forwarded-For. Lockouts (axes) and audit events (``client_ip``) therefore name the same client.
"""

from axes.helpers import get_client_ip_address


def client_ip(request) -> str | None:
    """The address of the client that sent ``request``, as django-axes counts it for lockouts.

    Returns an IPv4/IPv6 string, or None without a request or when the configured header is
    missing (a proxy count is set but the request did not come through the proxy).
    """
    if request is None:
        return None
    return get_client_ip_address(request)
