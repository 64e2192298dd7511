"""A real OpenID provider on loopback for the single sign-on tests: oidc-provider-mock (Authlib's server), with
PKCE verified as a provider does (the mock does not), and hooks to hand out ID tokens a broken provider would."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, quote, urlsplit

import flask
import oidc_provider_mock
import requests
from joserfc import jwk, jwt
from werkzeug.serving import make_server

CLIENT_ID = "telemetry"
CLIENT_SECRET = "telemetry-test-secret"


class Provider:
    """The provider's address, who signs in with which claims, and what it should get wrong (one test at a time)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.id_token_changes: dict = {}  # claims replaced in the next ID tokens, re-signed with the provider's key
        self.foreign_key = False  # sign the next ID tokens with a key the provider never published
        self.challenges: dict[str, str] = {}  # code -> PKCE code_challenge (S256)

    def reset(self) -> None:
        self.id_token_changes, self.foreign_key = {}, False

    def set_user(self, email: str, **claims) -> None:
        """What the provider says about `email` (the subject typed into its form): claims as given."""
        answer = requests.put(f"{self.url}/users/{quote(email, safe='')}", json={"email": email, **claims}, timeout=10)
        answer.raise_for_status()

    def authorize(self, location: str, email: str) -> str:
        """Approve an authorization request as `email` would in the provider's form: the redirect back to us."""
        answer = requests.post(location, data={"sub": email}, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]


def free_port() -> int:
    """A loopback port nothing listens on (a provider that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _token_error(error: str, description: str) -> flask.Response:
    body = json.dumps({"error": error, "error_description": description})
    return flask.Response(body, 400, mimetype="application/json")


def _app(provider: Provider) -> flask.Flask:
    app = oidc_provider_mock.app(require_nonce=True)

    @app.before_request
    def check_pkce():
        """RFC 7636 at the token endpoint: the verifier must hash to the challenge sent with this code."""
        if flask.request.path != "/oauth2/token" or flask.request.form.get("grant_type") != "authorization_code":
            return None
        challenge = provider.challenges.pop(flask.request.form.get("code", ""), None)
        verifier = flask.request.form.get("code_verifier")
        if challenge is None:
            return _token_error("invalid_grant", "unknown or used code, or no code_challenge was sent")
        if not verifier or _s256(verifier) != challenge:
            return _token_error("invalid_grant", "code_verifier does not match the code_challenge")
        return None

    @app.after_request
    def keep_challenge(response: flask.Response) -> flask.Response:
        if flask.request.path == "/oauth2/authorize" and response.status_code == 302:
            code = parse_qs(urlsplit(response.headers["Location"]).query).get("code", [None])[0]
            if code and flask.request.args.get("code_challenge_method") == "S256":
                provider.challenges[code] = flask.request.args["code_challenge"]
        tampering = provider.id_token_changes or provider.foreign_key
        if flask.request.path == "/oauth2/token" and response.status_code == 200 and tampering:
            body = response.get_json()
            body["id_token"] = _rewritten(body["id_token"], provider)
            response.set_data(json.dumps(body))
        if response.mimetype == "text/html":  # its pages link a stylesheet on a CDN: no network in tests
            page = response.get_data(as_text=True)
            start = page.find("<link")
            if start >= 0:
                response.set_data(page[:start] + page[page.index(">", start) + 1 :])
        return response

    return app


def _rewritten(id_token: str, provider: Provider) -> str:
    storage = flask.g.oidc_provider_mock_storage
    key = jwk.import_key(storage.jwk.as_dict(is_private=True), "RSA")
    token = jwt.decode(id_token, key)
    claims = {**token.claims, **provider.id_token_changes}
    kid = {"kid": token.header["kid"]} if "kid" in token.header else None  # the same name, another key
    signer = jwk.RSAKey.generate_key(2048, parameters=kid) if provider.foreign_key else key
    return jwt.encode(dict(token.header), claims, signer)


@contextmanager
def running() -> Iterator[Provider]:
    """The provider on a free loopback port, in a thread, for as long as the context lasts."""
    provider = Provider("")
    server = make_server("127.0.0.1", 0, _app(provider), threaded=True)  # listening from here on
    provider.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(10)
