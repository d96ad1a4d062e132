"""The deployment files in deploy/ (README, "Deployment"): the systemd units pass `systemd-analyze
verify` and the nginx site passes `nginx -t`, then really proxies: the Host with its port and
X-Forwarded-Proto reach the app, and a body over the cap is refused by nginx. Each test skips
when its tool is not installed (CI installs neither: nginx is optional, see .ci/run)."""

from __future__ import annotations

import http.client
import json
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.s3server import free_port
from tests.topology import wait_until

BASE_DIR = Path(__file__).resolve().parent.parent
DEPLOY = BASE_DIR / "deploy"
UNITS = ["loopdeck-web.service", "loopdeck-worker@.service", "loopdeck-reconcile.service"]


def localised(text: str, env_file: Path) -> str:
    """A unit as installed from this checkout: its venv and folder instead of /opt/loopdeck."""
    venv_bin = str(Path(sys.executable).parent) + "/"
    return (text.replace("/opt/loopdeck/.venv/bin/", venv_bin).replace("/opt/loopdeck", str(BASE_DIR))
            .replace("/etc/loopdeck/loopdeck.env", str(env_file)))


def test_the_systemd_units_verify(tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed")
    env_file = tmp_path / "loopdeck.env"
    env_file.write_text("REDIS_URL=redis://127.0.0.1:6379/0\n")
    for unit in UNITS:
        (tmp_path / unit).write_text(localised((DEPLOY / "systemd" / unit).read_text(), env_file))
    # Warnings (an unknown key, a bad value) leave the exit status 0: any output is a failure.
    done = subprocess.run([tool, "verify", "--man=no", "./loopdeck-web.service", "./loopdeck-reconcile.service",
                           "./loopdeck-worker@1.service", "./loopdeck-worker@2.service"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


class Echo(BaseHTTPRequestHandler):
    """Stands in for gunicorn: answers with the headers it received."""

    def do_GET(self) -> None:  # noqa: N802
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def test_the_nginx_site_passes_nginx_t_and_proxies_as_promised(tmp_path, echo_port):
    nginx, openssl = shutil.which("nginx") or "/usr/sbin/nginx", shutil.which("openssl")
    if not Path(nginx).exists() or openssl is None:
        pytest.skip("nginx or openssl is not installed")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=loopdeck.example.com", "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    http_port, https_port = free_port(), free_port()
    site = (DEPLOY / "nginx" / "loopdeck.conf").read_text()
    site = (site.replace("127.0.0.1:8000", f"127.0.0.1:{echo_port}")
            .replace("listen 80;", f"listen 127.0.0.1:{http_port};").replace("listen [::]:80;", "")
            .replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl").replace("listen [::]:443 ssl http2;", "")
            .replace("/etc/letsencrypt/live/loopdeck.example.com/fullchain.pem", str(tmp_path / "cert.pem"))
            .replace("/etc/letsencrypt/live/loopdeck.example.com/privkey.pem", str(tmp_path / "key.pem"))
            .replace("client_max_body_size 2049m;", "client_max_body_size 1m;"))
    (tmp_path / "loopdeck.conf").write_text(site)
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"daemon off;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/body;\n  proxy_temp_path {tmp_path}/proxy;\n"
        f"  include {tmp_path}/loopdeck.conf;\n}}\n")
    argv = [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    checked = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr

    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        context.check_hostname = False

        def ask(method: str, body: bytes | None = None) -> tuple[int, bytes]:
            conn = http.client.HTTPSConnection("127.0.0.1", https_port, context=context, timeout=5)
            try:
                conn.request(method, "/api/v1/videos", body=body,
                             headers={"Host": f"loopdeck.example.com:{https_port}"})
                answer = conn.getresponse()
                return answer.status, answer.read()
            finally:
                conn.close()

        wait_until(lambda: _answers(https_port), 10, "nginx to listen")
        status, body = ask("GET")
        seen = json.loads(body)
        assert status == 200
        assert seen["host"] == f"loopdeck.example.com:{https_port}" and seen["x-forwarded-proto"] == "https"
        assert ask("POST", b"x" * 1000)[0] == 200
        assert ask("POST", b"x" * (2 * 1024 * 1024))[0] == 413

        plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=5)
        plain.request("GET", "/videos/", headers={"Host": "loopdeck.example.com"})
        redirect = plain.getresponse()
        assert redirect.status == 301 and redirect.getheader("Location") == "https://loopdeck.example.com/videos/"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False
