"""Story clusters: signed 64-bit simhash, Hamming distance, and cluster assignment."""

from __future__ import annotations

import sqlite3

from presswatch.enrich.cluster import MAX_DISTANCE, assign_cluster, hamming, simhash

WIRE = ("Mesto Veľké Brezno získalo 3,2 milióna eur z eurofondov na zateplenie dvoch základných škôl. Peniaze "
        "pôjdu na ZŠ Školská a ZŠ Lesná, ktoré sú zo sedemdesiatych rokov a patria medzi energeticky najhoršie "
        "budovy v meste. Práce by sa mali začať na jar a potrvať do konca budúceho roka. Mesto k eurofondom "
        "pridá spolufinancovanie vo výške päť percent a verejné obstarávanie chce vyhlásiť ešte v decembri. "
        "Primátor Ondrej Kováčik povedal, že ide o najväčšiu investíciu do škôl za posledných dvadsať rokov.")
EDITED = WIRE.replace("Mesto Veľké Brezno získalo", "Veľké Brezno dostalo").replace(
    " a verejné obstarávanie chce vyhlásiť ešte v decembri", "") + " Rodičia zmenu vítajú."
UNRELATED = ("Hokejisti HK Lipany prehrali v sobotu na ľade Prievidze 2:4. Domáci rozhodli o víťazstve v tretej "
             "tretine dvoma gólmi v presilovke, hostia v závere hrali bez brankára, ale vyrovnať nedokázali. "
             "Lipany sú po dvanástich kolách piate, v utorok ich čaká zápas proti Handlovej.")


def test_fingerprint_is_a_signed_64_bit_integer_sqlite_can_store() -> None:
    fps = [simhash(t) for t in (WIRE, EDITED, UNRELATED, "a", "")]
    assert all(-(2**63) <= fp < 2**63 for fp in fps)
    db = sqlite3.connect(":memory:")
    db.execute("create table c (fp integer)")
    db.executemany("insert into c values (?)", [(fp,) for fp in fps])
    assert [r[0] for r in db.execute("select fp from c")] == fps
    assert simhash("") == 0


def test_the_same_text_without_diacritics_or_with_other_quotes_has_the_same_fingerprint() -> None:
    assert simhash("Primátor povedal: „Áno.“") == simhash('Primator povedal: "Ano."')


def test_edited_wire_copy_is_near_and_unrelated_story_is_far() -> None:
    assert hamming(simhash(WIRE), simhash(EDITED)) <= MAX_DISTANCE
    assert hamming(simhash(WIRE), simhash(UNRELATED)) > MAX_DISTANCE
    assert hamming(5, -5) == hamming(-5, 5) and hamming(7, 7) == 0


def test_assign_cluster_joins_the_first_copy_or_starts_a_new_one() -> None:
    first = ("clip-a", "clip-a", simhash(WIRE))
    other = ("clip-b", "clip-b", simhash(UNRELATED))
    assert assign_cluster("clip-c", simhash(EDITED), [other, first], MAX_DISTANCE) == "clip-a"
    assert assign_cluster("clip-d", simhash(UNRELATED + " Koniec."), [first], MAX_DISTANCE) == "clip-d"
    assert assign_cluster("clip-e", simhash(WIRE), [], MAX_DISTANCE) == "clip-e"
    # a candidate without a cluster yet counts as its own cluster; the clipping itself is ignored
    assert assign_cluster("clip-f", simhash(WIRE), [("clip-f", None, simhash(WIRE)),
                                                   ("clip-g", None, simhash(WIRE))]) == "clip-g"
