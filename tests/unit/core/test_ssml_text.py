"""backend.domain.ssml_text: the one SSML-to-words rule (chat preview, CLI, simulated phones)."""

from __future__ import annotations

from backend.cli.job_files import readable_ssml
from backend.domain.ssml_text import spoken_text
from backend.local.simulator import spoken_text as simulator_text
from bot.core.preview import spoken_text as preview_text

SSML = '<speak>Hi <break time="1s"/>Lam &amp; Ho<break/>, now.</speak><speak>Bye</speak>'


def test_every_reader_of_ssml_hears_the_same_words() -> None:
    assert spoken_text(SSML) == "Hi Lam & Ho , now. Bye"
    assert simulator_text(SSML) == spoken_text(SSML)
    assert preview_text(SSML) == "Hi … Lam & Ho … , now. Bye"
    assert readable_ssml(SSML) == "Hi [pause 1s] Lam & Ho [pause] , now. Bye"
