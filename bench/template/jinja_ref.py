#!/usr/bin/env python3
"""Reference for bench/template/run: Jinja2 (compiled to Python bytecode, autoescape on) rendering
email.jinja, the same email as email.liquid with spintax picked in Python, for N leads, building
each lead's context in the loop. Prints "jinja2 build+render: X renders/s" (per CPU-second).
Usage: jinja_ref.py TEMPLATE_FILE [N]"""
import sys
import time

import jinja2
from markupsafe import Markup

SPIN = [
    ["Hi", "Hello", "Hey"],
    ["growing its sales team", "hiring SDRs", "hiring account executives"],
    ["small", "growing"],
    ["personalised", "tailored"],
    ["switch in a day", "are live the same afternoon"],
    ["deliverability", "landing in the inbox"],
    ["reply rates", "replies"],
    ["Warm-up", "Inbox warm-up"],
    ["Rotation", "Sender rotation"],
    ["A/B tests", "Split tests"],
    ["15-minute", "short", "quick"],
    ["next week", "this week"],
    ["If not", "If the timing is wrong"],
    ["follow up next quarter", "check back in a few months"],
    ["ideal customer profile", "search"],
]
FIRST = ["marie", "  JOSÉ ", "bob", "", "Łukasz", "ann-kathrin", "Tom"]
COMPANY = ["Acme & Sons", "Bäckerei Müller", "", "Globex <Labs>", "Initech", "Umbrella Corp"]
CITY = ["München", "", "Lisbon", "New York", "Paris"]
TOOL = ["", "Lemlist", "Instantly", "", "Smartlead"]


def lead(i):
    return dict(
        first_name=FIRST[i % 7], company=COMPANY[i % 6], city=CITY[i % 5],
        employees=str(10 + (i * 37) % 900), title="" if i % 3 == 0 else "Head of Sales",
        timezone="Europe/Berlin" if i % 2 == 0 else "", country="" if i % 4 == 0 else "Germany",
        custom={"Industry Name": "" if i % 5 == 0 else "Logistics", "tool": TOOL[i % 5]})


def main():
    source = open(sys.argv[1], encoding="utf-8").read()
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    env = jinja2.Environment(autoescape=True)
    template = env.from_string(source)
    sender = {"first_name": "Ana", "signature": Markup(
        '<p>Best,<br>Ana Ruiz<br><span style="color:#888">Kiln &middot; Lisbon</span></p>')}
    leads = [lead(i) for i in range(1000)]
    total = 0
    start = time.process_time()
    for i in range(n):
        k = i % 1000
        ctx = dict(leads[k])
        ctx["sender"] = sender
        ctx["campaign_slug"] = "q3 follow-up"
        ctx["unsubscribe_url"] = Markup("https://t.kiln.example/u/%d?s=2" % k)
        seed = hash((k, 2, 1))
        ctx["spin"] = [alts[hash((seed, g)) % len(alts)] for g, alts in enumerate(SPIN)]
        total += len(template.render(ctx))
    elapsed = time.process_time() - start
    print("jinja2 build+render: %.0f renders/s (%.0f bytes per email)" % (n / elapsed, total / n))


if __name__ == "__main__":
    main()
