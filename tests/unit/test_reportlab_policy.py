"""ReportLab reads no remote resource once locked down (CVE-2020-28463, SSRF via
``<img src>``; the mitigation ReportLab documents is ``trustedHosts``/``trustedSchemes``)."""

from __future__ import annotations

import http.server
import threading

import pytest

from hydro.services.bulletin_output import _register_fonts


def test_an_img_tag_pointing_at_a_server_fetches_nothing():
    pytest.importorskip("reportlab")
    from reportlab.lib.utils import open_for_read

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"GIF89a")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _register_fonts()  # what every PDF builder does first
        url = f"http://127.0.0.1:{server.server_port}/probe.gif"
        with pytest.raises(OSError):
            open_for_read(url)
        assert hits == []
        # local files (our fonts) are still readable
        from hydro.services.bulletin_output import FONT_DIR

        assert open_for_read(str(FONT_DIR / "DejaVuSans.ttf")).read(4)
    finally:
        server.shutdown()
