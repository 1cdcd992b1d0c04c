import pytest
import websockets.sync.client as ws_client


@pytest.mark.e2e
def test_live_daphne_serves_home_and_websocket(live_daphne, transactional_db) -> None:
    """The real server answers HTTP and refuses an anonymous notifications socket."""
    import urllib.request

    with urllib.request.urlopen(live_daphne.url + "/healthz") as resp:
        assert resp.status == 200
    with pytest.raises(Exception, match="403"):
        ws_client.connect(
            live_daphne.ws_url + "/ws/notifications/", origin=live_daphne.url, open_timeout=5
        )
