"""Documents and application data: III.3, II.3.a.ii, II.3.a.i, I.13 (no network)."""

import pytest

from prep_conformance.probes.documents import observe_file
from prep_conformance.rules import documents


@pytest.mark.requirement("III.3")
def test_letter_of_intent(difusor, record_check):
    record_check(documents.letter_of_intent(difusor.profile))


@pytest.mark.requirement("II.3.a.ii")
def test_staff_list(difusor, record_check):
    record_check(documents.staff_list(difusor.profile))


@pytest.mark.requirement("II.3.a.i")
def test_diagram_file(difusor, record_check):
    record_check(documents.diagram(observe_file(difusor.profile.documents.diagram)))


@pytest.mark.requirement("I.13")
def test_logo_vector(difusor, record_check):
    record_check(documents.logo(observe_file(difusor.profile.documents.logo)))
