"""Placing a person by workspace and organisation: either id listed is enough; two places is a refusal."""

from __future__ import annotations

import pytest

from desk.domain.identity import OrgIdentity, Standing, place
from desk.domain.tenancy import ActorKind, Directory, resolve

DIRECTORY = Directory(
    council_by_team={"T0CHW00001": "cherwell", "E0BCCORG01": "belfast", "T0FIF00001": "fife",
                     "T0STRAY001": "cherwell"},
    council_by_channel={"C0CHW00001": "cherwell", "C0BCC00001": "belfast"},
    support_team="E0SUPORG01", triage_channel="C0TRI00001")


@pytest.mark.parametrize("identity, standing, council", [
    (OrgIdentity("T0CHW00001"), Standing.COUNCIL, "cherwell"),  # a single workspace
    (OrgIdentity("T0BCC00001", "E0BCCORG01"), Standing.COUNCIL, "belfast"),  # any workspace of a listed org
    (OrgIdentity("T0BCC00002", "E0BCCORG01"), Standing.COUNCIL, "belfast"),
    (OrgIdentity(None, "E0BCCORG01"), Standing.COUNCIL, "belfast"),  # the organisation alone
    (OrgIdentity("T0FIF00001", "E0FIFORG01"), Standing.COUNCIL, "fife"),  # a Grid council by workspace
    (OrgIdentity("T0SUP00001", "E0SUPORG01"), Standing.SUPPORT, None),
    (OrgIdentity("T0OUT00001", "E0OUTORG01"), Standing.NOWHERE, None),
    (OrgIdentity(), Standing.NOWHERE, None),
    (OrgIdentity("T0STRAY001", "E0BCCORG01"), Standing.CLASH, None),  # a workspace and its org, two councils
    (OrgIdentity("T0CHW00001", "E0SUPORG01"), Standing.CLASH, None),  # a council and the support team
])
def test_a_person_is_placed_by_either_id_and_never_in_two_places(identity: OrgIdentity, standing: Standing,
                                                                  council: str | None) -> None:
    placement = place(identity, council_by_team=DIRECTORY.council_by_team, support_team=DIRECTORY.support_team)
    assert (placement.standing, placement.council_id) == (standing, council)


def test_a_clash_is_refused_naming_both_places() -> None:
    actor = resolve(DIRECTORY, user="U1", team=OrgIdentity("T0STRAY001", "E0BCCORG01"), channel="C0BCC00001")
    assert actor.kind is ActorKind.UNKNOWN and actor.council_id is None
    assert actor.refused_because == ("organisation T0STRAY001/E0BCCORG01 points at two places: T0STRAY001 is "
                                     "council cherwell's and E0BCCORG01 is council belfast's")


def test_an_organisation_member_is_still_checked_against_the_channel() -> None:
    actor = resolve(DIRECTORY, user="U1", team=OrgIdentity("T0BCC00001", "E0BCCORG01"), channel="C0CHW00001")
    assert actor.kind is ActorKind.UNKNOWN and "belfast acting in cherwell's channel" in str(actor.refused_because)
    support = resolve(DIRECTORY, user="U2", team=OrgIdentity("T0SUP00002", "E0SUPORG01"), channel="C0BCC00001")
    assert (support.kind, support.council_id) == (ActorKind.SUPPORT, "belfast")


def test_one_id_or_garbage_is_an_identity_too() -> None:
    assert OrgIdentity.of("E0BCCORG01") == OrgIdentity(None, "E0BCCORG01")
    assert OrgIdentity.of("T0CHW00001") == OrgIdentity("T0CHW00001")
    assert OrgIdentity.of({"id": "T0CHW00001"}) == OrgIdentity.of("C0CHW00001") == OrgIdentity()  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        OrgIdentity("E0BCCORG01")
