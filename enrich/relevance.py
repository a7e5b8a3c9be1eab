"""Is the article about this municipality? A weighted count of the evidence the mention matcher collected.

About us: the municipality named in the title or the lead, its officials named in full with their titles, its
bodies, a title tied to the town ("the Mayor of Harrowfield"). Not about us: a passing mention in a list of
places ("Bratislava, Košice, Javorová Bystrica a ďalšie mestá"), a namesake, another town's mayor or council
(those count against). A place of the municipality (`municipality.places`: a neighbourhood, a village, a short
name like "v Hôrke") weighs less than the name: alone, or in a list of places, it is not enough; with a local
outlet, an official named in full or a municipal topic ("mesto", "radnica", "belediye") it is. The weights are data, in one place, so a later issue can learn them from the press
office's corrections.
"""

from __future__ import annotations

from presswatch.enrich.mentions import Evidence

WEIGHTS: dict[str, float] = {
    "town_title": 3.0,
    "town_lead": 2.0,
    "town_rest": 1.0,  # per mention, capped below
    "town_list": 0.3,
    "full_names": 1.5,  # per distinct official
    "titled": 1.0,  # per official named with title or tied to the town
    "weak": 0.5,
    "bodies_specific": 2.0,
    "bodies_generic": 0.5,
    "places": 1.0,  # per mention, capped below the threshold: a place alone is not enough
    "places_list": 0.0,  # one item of an enumeration of places says nothing
    "place_topic": 1.0,  # a place of ours and the local authority in the same article
    "other_place": -1.0,
    "home_outlet": 1.5,  # a local outlet of the profile: one more mention of the municipality is enough
}
CAPS: dict[str, float] = {"town_rest": 2.0, "town_list": 0.6, "full_names": 3.0, "titled": 3.0, "weak": 1.0,
                          "bodies_generic": 1.0, "bodies_specific": 2.0, "places": 1.5,
                          "other_place": -3.0}
THRESHOLD = 2.0


def score(ev: Evidence) -> float:
    total = 0.0
    for key, weight in WEIGHTS.items():
        value = weight * float(getattr(ev, key))
        cap = CAPS.get(key)
        if cap is not None:
            value = max(value, cap) if cap < 0 else min(value, cap)
        total += value
    return total


def is_relevant(ev: Evidence) -> bool:
    return score(ev) >= THRESHOLD
