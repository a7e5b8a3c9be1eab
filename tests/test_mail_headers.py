"""Headers people read survive the trip: a long Slovak, Macedonian or Turkish subject decodes to exactly what was
set (the `email` package's own folding dropped the space between two words in about one subject in ten)."""

from __future__ import annotations

import random
from email import message_from_bytes, policy

from presswatch.digest.mail import build_message

WORDS = ("Kritický článok: Obyvatelia v časti Dolná Hôrka žiadajú opravu cesty pri železničnej stanici (prípad 7) – "
         "mesto mlčí a primátor Hrušovský Градоначалникот Шилегов ја отвори Belediye Başkanı'nın açıklaması "
         "Petrauskienės sprendimas").split()


def test_long_non_ascii_subjects_and_names_decode_exactly() -> None:
    rng = random.Random(5)
    for _ in range(400):
        subject = " ".join(rng.sample(WORDS, k=rng.randint(1, len(WORDS))))
        name = " ".join(rng.sample(WORDS, k=rng.randint(1, 6))).replace(":", "").replace("(", "").replace(")", "")
        msg = build_message(sender="presswatch@stara-horka.example", sender_name=name, to=["a@b.example"],
                            subject=subject, text="telo")
        raw = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))  # as smtplib.send_message writes it
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998
        back = message_from_bytes(raw, policy=policy.default)
        assert str(back["Subject"]) == subject
        assert back["From"].addresses[0].display_name == name
        assert str(msg["Subject"]) == subject  # what the code reads back before sending, too
