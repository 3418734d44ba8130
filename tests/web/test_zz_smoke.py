from pathlib import Path
from case_desk import make_pair, COMPLETE_PRESERVATION

def test_smoke(tmp_path: Path) -> None:
    pair = make_pair(tmp_path)
    page = pair.vn_client.get("/compose")
    assert page.status_code == 200, page.text
    draft = pair.start_draft()
    page = pair.vn_client.get(f"/compose/{draft}")
    assert page.status_code == 200, page.text
    Path("/tmp/scratch/compose.html").write_text(page.text)
    rid = pair.send_complete()
    inbox = pair.fr_client.get("/inbox")
    Path("/tmp/scratch/inbox.html").write_text(inbox.text)
    assert inbox.status_code == 200, inbox.text
    case = pair.fr_client.get(f"/requests/{rid}")
    Path("/tmp/scratch/case.html").write_text(case.text)
    assert case.status_code == 200, case.text
