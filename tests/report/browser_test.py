#!/usr/bin/env python3
"""Renders a report page in headless Chromium and checks what a reader would see.

usage: browser_test.py RICHLAZY_BINARY

Runs tests/report/small_experiment.yaml (2 ranks x 2 seeds) with its report, then
1. loads index.html with --dump-dom and reads the page's own image check: every <img>
   loaded (complete, with a natural width), none failed;
2. takes a screenshot and checks it is not blank: enough non-white pixels and colours.
Exits non-zero with a message on any failure, Chromium missing included (CI installs it).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--hide-scrollbars"]


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    fail("no chromium on PATH: install Debian's chromium package (scripts/setup.sh does)")


def main():
    if len(sys.argv) != 2:
        fail("usage: browser_test.py RICHLAZY_BINARY")
    binary = sys.argv[1]
    browser = chromium()
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(os.path.dirname(os.path.abspath(__file__)), "small_experiment.yaml")
        run = subprocess.run([binary, "run", config, "--quiet", "--out", tmp], capture_output=True, text=True)
        if run.returncode != 0:
            fail(f"richlazy run failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
        index = os.path.join(tmp, "small", "report", "index.html")
        if not os.path.isfile(index):
            fail(f"no {index}; richlazy run said:\n{run.stdout}\n{run.stderr}")
        url = "file://" + index
        profile = os.path.join(tmp, "profile")

        dom = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000",
                              "--dump-dom", url], capture_output=True, text=True, timeout=120)
        check = re.search(r'<p id="image-check"[^>]*>', dom.stdout)
        if not check:
            fail(f"the page's image check is missing from the rendered DOM:\n{dom.stdout[-2000:]}\n{dom.stderr[-2000:]}")
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', check.group(0)))
        images = len(re.findall(r"<img ", dom.stdout))
        if "data-loaded" not in attrs:
            fail(f"the page's load handler did not run: {check.group(0)}")
        if images < 4 or int(attrs["data-images"]) != images:
            fail(f"expected the 4 figures as images, the page has {images}, says {attrs['data-images']}")
        if int(attrs["data-failed"]) != 0 or int(attrs["data-loaded"]) != images:
            fail(f"images did not load: {check.group(0)}")

        shot = os.path.join(tmp, "page.png")
        subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", "--window-size=1280,1600",
                        f"--screenshot={shot}", url], capture_output=True, text=True, timeout=120)
        if not os.path.isfile(shot):
            fail("chromium wrote no screenshot")
        from PIL import Image
        image = Image.open(shot).convert("RGB")
        width, height = image.size
        pixels = list(image.getdata())
        non_white = sum(1 for p in pixels if min(p) < 235) / len(pixels)
        colours = len(set(pixels))
        print(f"screenshot {width}x{height}: {non_white:.1%} non-white pixels, {colours} colours; "
              f"{images} images loaded")
        if (width, height) != (1280, 1600):
            fail(f"screenshot is {width}x{height}, asked for 1280x1600")
        if non_white < 0.03 or colours < 50:
            fail("the screenshot is (nearly) blank")
    return 0


if __name__ == "__main__":
    sys.exit(main())
