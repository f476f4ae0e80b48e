"""The ``reachable`` command as an admin and a newcomer use it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.httpserver import free_port
from cli.redisproc import RedisProcess
from tests.e2e.conftest import CONFIG, BridgeProcess, Deployment, wait_for

ROOT = Path(__file__).resolve().parents[2]


def reachable(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
    )


def test_config_check_prints_a_summary_of_a_good_file() -> None:
    result = reachable("config", "check", "config/reachable.example.yaml")
    assert result.returncode == 0, result.stderr
    assert "config/reachable.example.yaml: OK" in result.stdout
    assert "humas: @humas_demo on x" in result.stdout
    assert "complaints: -> humas-slack, humas-telegram (SLA 30m, high)" in result.stdout


def test_config_check_lists_every_problem_with_its_place(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        CONFIG.replace(
            "to: [humas-slack, humas-telegram], sla: 4h", "to: [humas-slak], sla: 4h"
        ).replace("speaks_for: [humas]", "speaks_for: [humas, pers]")
    )
    result = reachable("config", "check", str(bad))
    assert result.returncode == 1
    assert f"{bad}: 2 problems:" in result.stderr
    assert (
        "routes[1].to[0]: unknown destination 'humas-slak' "
        "(known: humas-slack, humas-telegram, supervisors)"
    ) in result.stderr
    assert "people[0].speaks_for[1]: unknown account 'pers' (known: humas)" in result.stderr


def test_the_bridge_refuses_to_start_on_a_bad_config(deployment: Deployment) -> None:
    deployment.config.write_text(CONFIG.replace("sla: 30m", "sla: soon"))
    result = reachable("run", "--config", str(deployment.config), env=deployment.env)
    assert result.returncode == 2
    assert "Not starting: the config has problems." in result.stderr
    assert "routes[0].sla: 'soon' is not a duration" in result.stderr
    emulators = deployment.emulators
    for url in (emulators.x_server.url, emulators.slack_server.url):
        assert httpx.get(f"{url}/_emulator/calls").json()["calls"] == []


def test_the_bridge_says_why_when_redis_is_down(deployment: Deployment) -> None:
    env = {
        **deployment.env,
        "REACHABLE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "REACHABLE_REDIS_START_WAIT_S": "1",
    }
    result = reachable("run", "--config", str(deployment.config), env=env)
    assert result.returncode == 2
    assert "waiting for Redis at redis://127.0.0.1:" in result.stderr
    assert "cannot reach Redis at redis://127.0.0.1:" in result.stderr
    assert "Start Redis or set REACHABLE_REDIS_URL." in result.stderr


def test_the_bridge_names_a_sentinel_setting_it_cannot_use_and_sentinels_it_cannot_reach(
    deployment: Deployment,
) -> None:
    env = {**deployment.env, "REACHABLE_REDIS_SENTINELS": "10.0.0.5:26379,sentinel-two"}
    result = reachable("run", "--config", str(deployment.config), env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "REACHABLE_REDIS_SENTINELS: 'sentinel-two' is not host:port (as in 10.0.0.5:26379)"
    )
    silent = f"127.0.0.1:{free_port()}"
    env.update(REACHABLE_REDIS_SENTINELS=silent, REACHABLE_REDIS_START_WAIT_S="1")
    result = reachable("run", "--config", str(deployment.config), env=env)
    assert result.returncode == 2
    assert f"cannot reach Redis at the primary 'mymaster' of the sentinels {silent}" in (
        result.stderr
    )
    assert "Start Redis and its sentinels, or check REACHABLE_REDIS_SENTINELS" in result.stderr


def test_the_bridge_waits_for_a_redis_that_starts_after_it(
    deployment: Deployment, tmp_path: Path
) -> None:
    """Containers started together, or a supervisor restarting Redis and the bridge at once:
    the bridge waits for Redis instead of giving up."""
    late = RedisProcess(directory=tmp_path)
    deployment.env["REACHABLE_REDIS_URL"] = late.url
    process = BridgeProcess(env=deployment.env, config=deployment.config, log=deployment.log)
    try:
        wait_for(
            lambda: "waiting for Redis at" in deployment.log.read_text() or not process.alive(),
            timeout=30,
            what="the bridge waiting for Redis",
        )
        assert process.alive(), deployment.log.read_text()
        late.start()
        health = f"http://127.0.0.1:{deployment.emulators.bridge_port}/healthz"
        wait_for(
            lambda: _answers(health) or not process.alive(),
            timeout=30,
            what="the bridge, once Redis is up",
        )
        assert process.alive(), deployment.log.read_text()
        log = deployment.log.read_text()
        assert "waiting for Redis at" in log and "Redis answers; starting" in log
    finally:
        process.stop()
        late.cleanup()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def test_personal_accounts_need_a_token_key_to_start(deployment: Deployment) -> None:
    env = {k: v for k, v in deployment.env.items() if k != "REACHABLE_TOKEN_KEY"}
    result = reachable("run", "--config", str(deployment.config), env=env)
    assert result.returncode == 2
    assert "REACHABLE_TOKEN_KEY is not set" in result.stderr
    assert "reachable keygen" in result.stderr
    key = reachable("keygen")
    assert key.returncode == 0 and len(key.stdout.strip()) == 44


def test_demo_shows_the_mirrored_mentions_and_stops_cleanly(tmp_path: Path) -> None:
    # No Redis answers at this address, so the demo starts a private redis-server.
    env = {
        **os.environ,
        "REACHABLE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    log = tmp_path / "demo.out"
    with log.open("w") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "cli", "demo"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_output(log, demo, "Ctrl+C stops the demo")
            # The viral moment the demo suggests, from a second terminal.
            hint = next(line for line in log.read_text().splitlines() if "demo burst" in line)
            x_url = hint.partition("--x-url")[2].split()
            burst = reachable(
                "demo", "burst", "--count", "40", *(["--x-url", *x_url][: 2 * bool(x_url)])
            )
            assert burst.returncode == 0, burst.stderr
            assert "Posted 40 mentions." in burst.stdout
            wait_for_output(log, demo, "📥 Burst:", timeout=60)
        finally:
            demo.send_signal(signal.SIGINT)
            demo.wait(timeout=20)
    shown = log.read_text()
    assert demo.returncode == 0, shown
    assert "a private redis-server on port" in shown
    assert "Personal X accounts linked (by the PIN flow): Rina → @rina_personal" in shown
    assert "What staff now see in Slack #humas (C0HUMAS):" in shown
    assert "Budi Santoso · @warga_budi · 312 followers" in shown
    assert "↳ in the thread:" in shown and "Siti Rahmawati" in shown
    assert "Route: complaints · priority high · SLA 30m" in shown
    assert "[Reply as @humas_demo]  [Reply as myself]  [Claim]  [Dismiss]" in shown
    assert "Pings caused in Slack: none." in shown
    assert 'What staff now see in the Telegram group "Humas Reachable (demo)"' in shown
    assert "│   ↳ reply:" in shown
    assert 'What staff now see in the Telegram group "Humas Reachable (demo)"' in shown
    assert "│   ↳ reply:" in shown
    assert "more mentions since" in shown and "/reachable show <ref>" in shown
    assert shown.rstrip().endswith("Demo stopped.")


def wait_for_output(
    log: Path, process: subprocess.Popen[bytes], text: str, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


def test_emulate_serves_every_emulator_until_interrupted() -> None:
    ports = {"x": free_port(), "slack": free_port(), "telegram": free_port()}
    emulate = subprocess.Popen(
        [sys.executable, "-m", "cli", "emulate", "--time-scale", "20"]
        + [arg for name, port in ports.items() for arg in (f"--{name}-port", str(port))],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                x = httpx.get(
                    f"http://127.0.0.1:{ports['x']}/2/users/by/username/humas_demo",
                    headers={"Authorization": "Bearer demo-x-bearer-token"},
                )
                slack = httpx.post(
                    f"http://127.0.0.1:{ports['slack']}/api/auth.test",
                    headers={"Authorization": "Bearer xoxb-demo-bot-token"},
                )
                telegram = httpx.get(
                    f"http://127.0.0.1:{ports['telegram']}/bot123456789:demo-telegram-token/getMe"
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and emulate.poll() is None
                time.sleep(0.2)
        assert x.json()["data"]["username"] == "humas_demo"
        assert slack.json()["ok"] is True
        assert telegram.json()["result"]["username"] == "reachable_demo_bot"
        for port in ports.values():
            clock = httpx.get(f"http://127.0.0.1:{port}/_emulator/clock").json()
            assert clock["scale"] == 20
    finally:
        emulate.send_signal(signal.SIGINT)
        output, _ = emulate.communicate(timeout=20)
    assert emulate.returncode == 0, output
    assert f"Telegram emulator: http://127.0.0.1:{ports['telegram']}" in output
    assert "start the bridge with REACHABLE_PLATFORM_TIME_SCALE=20." in output


def test_emulate_refuses_a_time_scale_that_is_no_speed() -> None:
    for bad in ("0", "-3", "fast"):
        result = reachable("emulate", "--time-scale", bad, "--x-port", str(free_port()))
        assert result.returncode == 2, result.stdout
        assert "Invalid value for '--time-scale'" in result.stderr


def terminal(**settings: str) -> dict[str, str]:
    """This environment without any language or REACHABLE_ setting, plus ``settings``."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("REACHABLE_", "LC_")) and name not in ("LANG", "LANGUAGE")
    }
    return {**kept, "LANG": "C.UTF-8", **settings}


def test_config_check_in_bahasa_indonesia(tmp_path: Path) -> None:
    good = reachable("config", "check", "config/reachable.example.yaml", "--locale", "id")
    assert good.returncode == 0, good.stderr
    assert "config/reachable.example.yaml: OK" in good.stdout
    assert "1 akun:" in good.stdout
    assert "humas: @humas_demo di x, diperiksa setiap 1m" in good.stdout
    assert "complaints: -> humas-slack, humas-telegram (SLA 30m, tinggi)" in good.stdout
    assert "humas-slack: kanal Slack C0HUMAS" in good.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text(CONFIG.replace("to: [humas-slack, humas-telegram], sla: 4h", "to: [humas-slak]"))
    refused = reachable("config", "check", str(bad), env=terminal(REACHABLE_LOCALE="id"))
    assert refused.returncode == 1
    assert f"{bad}: 1 masalah:" in refused.stderr
    assert (
        "routes[1].to[0]: tujuan 'humas-slak' tidak dikenal "
        "(yang terdaftar: humas-slack, humas-telegram, supervisors)"
    ) in refused.stderr

    bad.write_text(CONFIG.replace("sla: 30m", "sla: sebentar"))
    refused = reachable("config", "check", str(bad), "--locale", "id")
    assert "'sebentar' bukan durasi: tulis seperti 90s, 30m, 4h, 1h30m atau 2d" in refused.stderr


def test_doctor_in_bahasa_indonesia_names_each_problem_with_its_fix() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    env = terminal(
        REACHABLE_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        REACHABLE_X_API_URL=nowhere,
        REACHABLE_SLACK_API_URL=f"{nowhere}/api/",
        REACHABLE_TELEGRAM_API_URL=nowhere,
    )
    result = reachable(
        "doctor", "--config", "config/reachable.example.yaml", "--locale", "id", env=env
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Memeriksa Redis, kunci, jam, slack, telegram, x…" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["BIDANG", "PEMERIKSAAN", "STATUS", "RINCIAN"]
    redis = next(i for i, line in enumerate(lines) if line.startswith("Redis"))
    assert "dapat dihubungi" in lines[redis] and "GAGAL" in lines[redis]
    assert "tidak menjawab" in lines[redis]
    assert lines[redis + 1].strip().startswith("perbaikan: jalankan Redis")
    assert "REACHABLE_TOKEN_KEY belum diatur" in result.stdout
    assert "REACHABLE_SLACK_BOT_TOKEN belum diatur" in result.stdout
    assert "terhadap telegram" in result.stdout and "peringatan" in result.stdout
    assert lines[-1] == "8 pemeriksaan: 5 masalah menghalangi pengoperasian; 3 peringatan."


def test_help_speaks_the_terminals_language() -> None:
    indonesian = terminal(LANG="id_ID.UTF-8")
    page = help_page("doctor", env=indonesian)
    assert "Memeriksa instalasi sebelum mulai beroperasi: Redis, kunci, jam" in page
    assert "tidak mengirim apa pun." in page
    assert "--config PATH Berkas konfigurasi YAML (bawaan: REACHABLE_CONFIG" in page
    assert "--locale TEXT Bahasa keluaran: en, id (bawaan: REACHABLE_LOCALE" in page
    assert "-h, --help Menampilkan pesan ini, lalu keluar." in page
    assert "Check a deployment" not in page and "YAML config file" not in page

    page = help_page("rules", "test", env=indonesian)
    assert "Menampilkan ke mana mention dengan TEXT akan diarahkan, beserta alasannya" in page
    assert "--author TEXT Nama pengguna penulis. [default: someone]" in page
    assert "--followers INTEGER RANGE Jumlah pengikut penulis. [default: 0; x>=0]" in page
    assert '--at TEXT Waktu unggahan: "2026-12-01 20:00" (bawaan: saat ini).' in page
    assert "--tz TEXT Zona waktu untuk --at dan untuk keluaran" in page
    assert "Author's handle." not in page

    english = terminal(LANG="C.UTF-8")
    page = help_page("doctor", env=english)
    assert "Check a deployment before go-live: Redis, the key, clocks" in page
    assert "--config PATH YAML config file (default: REACHABLE_CONFIG" in page
    assert "-h, --help Show this message and exit." in page
    assert "Memeriksa" not in page

    page = help_page("rules", "test", env=english)
    assert "Show where a mention with TEXT would go, and why" in page
    assert "--author TEXT Author's handle. [default: someone]" in page
    assert "--followers INTEGER RANGE How many followers the author has. [default: 0" in page
    assert "Nama pengguna" not in page


def help_page(*command: str, env: dict[str, str]) -> str:
    """``reachable <command> --help``, its lines joined as a person reads them."""
    result = reachable(*command, "--help", env=env)
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.split())
