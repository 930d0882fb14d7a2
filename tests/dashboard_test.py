#!/usr/bin/python3
"""The directors' dashboard in a real browser (headless Chromium driven by
Selenium, both from Debian), against `takt serve` filled by `takt simulate`.

Clicks enterprise -> region -> plant -> line and checks that each OEE the
page shows equals `takt rollup --json` for the same scope and period, that
the browser logged no errors, and saves a screenshot per step. Prints the
first load's Navigation Timing (load event end) as a figure.

Usage: dashboard_test.py TAKT_BINARY SOURCE_DIR ARTIFACT_DIR
"""
import base64
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import chromium, free_port, serving, wait_until_up  # noqa: E402

TAKT, SOURCE, ARTIFACTS = sys.argv[1], sys.argv[2], sys.argv[3]


def rollup_kpi(target, scope, start, end, kpi="oee"):
    out = subprocess.run([TAKT, "rollup", "--target", target, "--scope", scope, "--kpi", kpi, "--from", start,
                          "--to", end, "--json"], check=True, capture_output=True, text=True).stdout
    k = json.loads(out)["total"]["kpis"][0]
    return k.get("value", 0.0) if k.get("has_value") or k.get("hasValue") else None


def rollup_oee(target, scope, start, end):
    return rollup_kpi(target, scope, start, end)


# The quality and safety tiles checked at each step beside OEE.
CONTEXT_KPIS = ("quality_fpy", "spc_violations", "safety_trir", "staffing_coverage")


def budget_actual(target, scope, start, end):
    """The actual cost `takt budgets variances --json` gives for a plant-level scope."""
    args = [TAKT, "budgets", "variances", "--target", target, "--from", start[:7], "--to", end[:7], "--json"]
    kind, _, name = scope.partition("/")
    if kind == "facilities":
        args += ["--facility", name]
    elif kind == "regions":
        args += ["--region", name]
    out = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    return int(out["total"].get("actual", 0)), out["currency"]


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], check=True, cwd=cwd, capture_output=True)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_pki(d):
    """A CA, the server's certificate for 127.0.0.1 and an identity provider's RSA key (openssl)."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Takt dashboard test CA", cwd=d)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.pem",
            "-days", "2", "-subj", "/CN=service:takt", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-addext", "subjectAltName=IP:127.0.0.1", cwd=d)
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "idp.key", cwd=d)
    openssl("pkey", "-in", "idp.key", "-pubout", "-out", "idp.pub", cwd=d)


def token(d, subject):
    """An RS256 bearer token for `subject`, signed with the identity provider's key (openssl dgst)."""
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    claims = b64url(json.dumps({"iss": "https://id.example.com", "aud": "takt", "sub": subject,
                                "exp": int(time.time()) + 3600}).encode())
    signing_input = f"{header}.{claims}".encode()
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", os.path.join(d, "idp.key")],
                               input=signing_input, check=True, capture_output=True).stdout
    return f"{header}.{claims}.{b64url(signature)}"


def director_over_tls(data, start, end):
    """The same data served over TLS with people's tokens: a regional director
    opens the page without a scope, lands on her region (she may not read the
    enterprise) and sees what takt rollup gives her."""
    pki = tempfile.mkdtemp(prefix="takt-dashboard-tls-")
    grpc_port, http_port = free_port(), free_port()
    target = f"127.0.0.1:{grpc_port}"
    make_pki(pki)
    serve = [TAKT, "serve", "--data-dir", data, "--listen", target, "--http-listen", f"127.0.0.1:{http_port}",
             "--http-static", os.path.join(SOURCE, "web"), "--tls-cert", os.path.join(pki, "server.pem"),
             "--tls-key", os.path.join(pki, "server.key"), "--jwt-public-key", os.path.join(pki, "idp.pub"),
             "--jwt-issuer", "https://id.example.com", "--jwt-audience", "takt", "--administrator", "admin"]
    # The test CA is not in the browser's store; the server's certificate is
    # checked by takt's own clients below.
    with serving(serve, os.path.join(ARTIFACTS, "serve-tls.log")), \
            chromium("--ignore-certificate-errors") as driver:
        env = dict(os.environ, TAKT_TLS_CA=os.path.join(pki, "ca.pem"), TAKT_TOKEN=token(pki, "admin"))
        for _ in range(100):
            if subprocess.run([TAKT, "access", "grant", "--target", target, "--subject", "erin", "--role",
                               "regional-director", "--scope", "regions/emea", "--reason", "dashboard test"],
                              env=env, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        erin = token(pki, "erin")
        env["TAKT_TOKEN"] = erin
        out = subprocess.run([TAKT, "rollup", "--target", target, "--scope", "regions/emea", "--kpi", "oee",
                              "--from", start, "--to", end, "--json"], env=env, check=True, capture_output=True,
                             text=True).stdout
        expected = json.loads(out)["total"]["kpis"][0]["value"]
        denied = subprocess.run([TAKT, "rollup", "--target", target, "--scope", "enterprise", "--from", start,
                                 "--to", end], env=env, capture_output=True, text=True)
        assert denied.returncode != 0 and "PERMISSION_DENIED" in denied.stderr + denied.stdout, denied
        driver.get(f"https://127.0.0.1:{http_port}/?token={erin}#from={start}&to={end}&by=day&target=85")
        WebDriverWait(driver, 20).until(lambda d: "scope=regions%2Femea" in d.current_url)
        WebDriverWait(driver, 20).until(
            lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") in ("true", "error"))
        state = driver.find_element(By.TAG_NAME, "body").get_attribute("data-ready")
        assert state == "true", driver.find_element(By.ID, "error").text
        got = float(driver.execute_script("return document.querySelector('.tile[data-kpi=\"oee\"]').dataset.value"))
        assert abs(got - expected) < 1e-9, f"regional director: page {got}, takt rollup {expected}"
        driver.save_screenshot(os.path.join(ARTIFACTS, "6-director-tls.png"))
        print(f"TLS with a token: erin (regional-director on regions/emea) opened the page, landed on her region, "
              f"OEE {got:.3f} % == takt rollup; the enterprise is refused to her")
    shutil.rmtree(pki, ignore_errors=True)


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    data = tempfile.mkdtemp(prefix="takt-dashboard-")
    grpc_port, http_port = free_port(), free_port()
    target = f"127.0.0.1:{grpc_port}"
    serve = [TAKT, "serve", "--insecure", "--data-dir", data, "--listen", target, "--http-listen",
             f"127.0.0.1:{http_port}", "--http-static", os.path.join(SOURCE, "web")]
    try:
        with serving(serve, os.path.join(ARTIFACTS, "serve.log")), chromium(console=True) as driver:
            start, end = check_insecure(driver, target, f"http://127.0.0.1:{http_port}", data)
        # The same data again, over TLS with people's tokens (the server above has stopped).
        director_over_tls(data, start, end)
        print("dashboard: OK")
    finally:
        shutil.rmtree(data, ignore_errors=True)


def check_insecure(driver, target, base, data):
    """The walk down on an --insecure server; returns the period checked."""
    wait_until_up(base + "/index.html")
    subprocess.run([TAKT, "simulate", "--target", target, "--facilities", "4", "--days", "3", "--seed", "7"],
                   check=True, stdout=subprocess.DEVNULL)
    today = datetime.date.today()
    start, end = str(today - datetime.timedelta(days=6)), str(today - datetime.timedelta(days=1))
    for _ in range(300):  # until the rollups projection has folded the simulation
        if rollup_oee(target, "enterprise", start, end) is not None:
            break
        time.sleep(0.1)

    wait = WebDriverWait(driver, 20)

    def ready():
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") in ("true", "error"))
        state = driver.find_element(By.TAG_NAME, "body").get_attribute("data-ready")
        assert state == "true", driver.find_element(By.ID, "error").text

    def shown_oee():
        # One script call: the page redraws its tiles while it polls, so an
        # element found in one call may be gone in the next.
        value = driver.execute_script(
            "const t = document.querySelector('.tile[data-kpi=\"oee\"]'); return t ? t.dataset.value : null;")
        return float(value) if value is not None else None

    def click_first_child(parent):
        # The page may redraw between finding a row and clicking it: retry.
        for _ in range(20):
            try:
                rows = driver.find_elements(By.CSS_SELECTOR, "#children tbody tr.drill[data-oee]")
                assert rows, f"no child with an OEE under {parent}"
                child = rows[0].get_attribute("data-scope")
                rows[0].click()
                return child
            except StaleElementReferenceException:
                time.sleep(0.1)
        raise AssertionError(f"the children of {parent} kept changing")

    def shown(selector, text=False):
        # A tile's value (data-value; absent without data) or an element's text.
        return driver.execute_script(
            f"const t = document.querySelector('{selector}'); "
            f"return t ? {'t.textContent' if text else '(t.dataset.value ?? null)'} : null;")

    def check(scope, step):
        expected = rollup_oee(target, scope, start, end)
        got = shown_oee()
        assert expected is not None, f"{scope}: no OEE from takt rollup"
        assert got is not None and abs(got - expected) < 1e-9, f"{scope}: page {got}, takt rollup {expected}"
        print(f"{step}: {scope} OEE {got:.3f} % (page) == {expected:.3f} % (takt rollup)")
        # Quality, safety and staffing tiles: the same figures as takt rollup.
        for kpi in CONTEXT_KPIS:
            want = rollup_kpi(target, scope, start, end, kpi)
            value = shown(f'.tile[data-kpi="{kpi}"]')
            tile = float(value) if value is not None else None
            assert (want is None and tile is None) or (tile is not None and abs(tile - want) < 1e-9), \
                f"{scope} {kpi}: page {value}, takt rollup {want}"
        # Budget: the actual cost equals takt budgets variances (plant level and above).
        if scope.count("/") <= 1:
            actual, currency = budget_actual(target, scope, start, end)
            text = shown('.tile[data-figure="actual"] .value', text=True)
            want = f"{actual / 100:,.2f} {currency}"
            assert text == want, f"{scope} actual cost: page {text!r}, takt budgets variances {want!r}"
            if scope.startswith("facilities/"):
                # The plant's variances recomputed from the raw events equal the served ones.
                href = driver.execute_script(
                    "const a = document.querySelector('.tile[data-figure=\"actual\"] a'); return a ? a.href : null;")
                assert href, f"{scope}: the budget tiles link to no explanation"
                explained = json.load(urllib.request.urlopen(href))
                assert explained.get("equal") is True, f"{scope}: explain variances {explained.get('differences')}"
            rows = driver.execute_script("return document.querySelectorAll('#capability tbody tr').length;")
            assert rows > 0, f"{scope}: no capability row"
            print(f"{step}: {scope} actual cost {text} (page) == takt budgets variances; {rows} Cpk row(s)")
        driver.save_screenshot(os.path.join(ARTIFACTS, f"{step}.png"))

    driver.get(f"{base}/#scope=enterprise&from={start}&to={end}&by=day&target=85")
    ready()
    timing = driver.execute_script(
        "const t = performance.getEntriesByType('navigation')[0]; return [t.loadEventEnd, t.domContentLoadedEventEnd];")
    check("enterprise", "1-enterprise")
    scope = "enterprise"
    for step in ("2-region", "3-plant", "4-line"):
        driver.execute_script("document.body.dataset.ready = ''")
        scope = click_first_child(scope)
        wait.until(lambda d: f"scope={scope.replace('/', '%2F')}" in d.current_url)
        ready()
        check(scope, step)
    # Live: an acknowledged observation shows on the page within 2 s.
    facility = scope.split("/")[1]
    units = json.load(urllib.request.urlopen(f"{base}/v1/{scope}/workUnits"))
    products = json.load(urllib.request.urlopen(f"{base}/v1/products"))
    unit, product = units["elements"][0]["id"], products["elements"][0]["id"]
    before = shown_oee()
    day = today - datetime.timedelta(days=3)
    batch = {"facility": facility, "batchId": "1", "observations": [{
        "sourceId": "dashboard-test", "sourceSequence": "1", "sourceTime": f"{day}T12:00:00Z",
        "count": {"workUnit": unit, "product": product, "good": 400}}]}
    path = os.path.join(data, "live.jsonl")
    with open(path, "w") as f:
        f.write(json.dumps(batch) + "\n")
    subprocess.run([TAKT, "ingest", "--target", target, "--file", path], check=True, stdout=subprocess.DEVNULL)
    acked = time.monotonic()
    WebDriverWait(driver, 10, poll_frequency=0.05).until(lambda d: shown_oee() != before)
    live = time.monotonic() - acked
    driver.save_screenshot(os.path.join(ARTIFACTS, "5-live.png"))
    assert live <= 2.0, f"the page showed the observation {live:.2f} s after its acknowledgement"
    assert abs(shown_oee() - rollup_oee(target, scope, start, end)) < 1e-9
    print(f"live: OEE {before:.3f} -> {shown_oee():.3f} % shown {live * 1000:.0f} ms after the acknowledgement")
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, f"browser errors: {severe}"
    print(f"first load: load event end {timing[0]:.0f} ms, DOMContentLoaded {timing[1]:.0f} ms "
          f"(4 plants x 3 days, headless Chromium)")
    return start, end


if __name__ == "__main__":
    main()
