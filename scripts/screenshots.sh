#!/usr/bin/env bash
# Makes the README's two pictures from a built binary, on loopback only:
#   docs/images/desktop.png  the desktop window on the built-in sample, in a virtual X display
#   docs/images/web.png      the web client of `hounsfield --serve`, in headless Chromium
#
#   scripts/screenshots.sh
#   HOUNSFIELD_BINARY=/path/to/hounsfield scripts/screenshots.sh
#
# HOUNSFIELD_BINARY defaults to target/release/hounsfield; HOUNSFIELD_CHROMIUM to chromium.
# Rendering is on lavapipe where there is no GPU: allow a minute.
# Needs Xvfb (xvfb), xdotool, chromium and python3 (scripts/setup-debian.sh installs
# them) and ImageMagick's import, identify and mogrify (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

binary="${HOUNSFIELD_BINARY:-target/release/hounsfield}"
chromium="${HOUNSFIELD_CHROMIUM:-chromium}"
images="docs/images"
width=1280
height=800
# How long the window or the page may take to show a settled picture (seconds).
patience=180
# The largest picture kept as it is; a larger one is reduced to 256 colours.
max_bytes=$((200 * 1024))

fail() {
  echo "screenshots: $*" >&2
  exit 1
}

if ! command -v import >/dev/null 2>&1 || ! command -v mogrify >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  echo "Installing: imagemagick"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends imagemagick
fi
[ -x "$binary" ] || fail "no binary at $binary: build it (cargo build --release -p hounsfield) or set HOUNSFIELD_BINARY"
for tool in Xvfb xdotool import identify mogrify python3 "$chromium"; do
  command -v "$tool" >/dev/null || fail "$tool is missing: apt-get install xvfb xdotool imagemagick python3 chromium"
done

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Settings, caches and Chromium's profile of this run only, so the user's servers, layout
# and recent studies stay out of the pictures.
export HOUNSFIELD_SETTINGS="$work/settings.toml"
export HOUNSFIELD_SCREENSHOTS="$work/pictures"
export XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache" XDG_STATE_HOME="$work/state"
mkdir -p "$images"

# The pixel signature of PNG $1 and the standard deviation (0..1) of its central part: a
# settled picture keeps its signature; a drawn volume makes the centre vary.
signature() { identify -format '%#' "$1"; }
centre_spread() {
  cp "$1" "$work/centre.png"
  mogrify -gravity center -crop 40%x40%+0+0 +repage "$work/centre.png"
  identify -format '%[fx:standard_deviation]' "$work/centre.png"
}

# Runs `capture FILE` every second until three captures in a row are alike and show a
# volume in their centre; the last one is left in $1.
wait_for_settled_picture() {
  local file="$1" what="$2" previous="" same=0 started=$SECONDS
  while [ $((SECONDS - started)) -lt "$patience" ]; do
    sleep 1
    capture "$file" 2>/dev/null || continue
    local now spread
    now="$(signature "$file")"
    spread="$(centre_spread "$file")"
    if [ "$now" = "$previous" ] && awk -v s="$spread" 'BEGIN { exit !(s > 0.04) }'; then
      same=$((same + 1))
      [ "$same" -ge 2 ] && return 0
    else
      same=0
    fi
    previous="$now"
  done
  fail "$what showed no settled picture within $patience s"
}

# Keeps a PNG small: metadata stripped, best compression, fewer colours when still large.
shrink() {
  mogrify -strip -define png:compression-level=9 "$1"
  if [ "$(stat -c %s "$1")" -gt "$max_bytes" ]; then
    mogrify -strip +dither -colors 256 -define png:compression-level=9 "$1"
  fi
  echo "$1: $(identify -format '%wx%h' "$1"), $(($(stat -c %s "$1") / 1024)) KiB"
}

# --- The desktop window, in a virtual X display of its own -------------------------------
Xvfb -displayfd 3 -screen 0 "${width}x${height}x24" -nolisten tcp 3>"$work/display" 2>/dev/null &
pids+=($!)
for _ in $(seq 50); do
  [ -s "$work/display" ] && break
  sleep 0.1
done
[ -s "$work/display" ] || fail "Xvfb named no display"
display=":$(tr -d '[:space:]' <"$work/display")"

# Rendered here even on a software adapter (no server to stream from), at full quality.
DISPLAY="$display" "$binary" open --render local >"$work/desktop.log" 2>&1 &
pids+=($!)
desktop=$!
window=""
for _ in $(seq "$patience"); do
  window="$(DISPLAY="$display" xdotool search --onlyvisible --name '^Hounsfield$' 2>/dev/null | head -n 1 || true)"
  [ -n "$window" ] && break
  kill -0 "$desktop" 2>/dev/null || fail "the desktop window did not open: $(cat "$work/desktop.log")"
  sleep 1
done
[ -n "$window" ] || fail "no window named Hounsfield within $patience s"
# No window manager: the window is placed and sized here, to fill the screen.
DISPLAY="$display" xdotool windowmove "$window" 0 0 windowsize "$window" "$width" "$height"
capture() { import -display "$display" -window "$window" "$1"; }
wait_for_settled_picture "$work/desktop.png" "the desktop window"
# Then the 2×2 layout (key 2): the 3D view with the axial, coronal and sagittal slices.
for _ in $(seq 20); do
  DISPLAY="$display" xdotool windowfocus --sync "$window" 2>/dev/null && break
  sleep 1
done
DISPLAY="$display" xdotool key --window "$window" 2
wait_for_settled_picture "$work/desktop.png" "the desktop window's 2×2 layout"
cp "$work/desktop.png" "$images/desktop.png"
shrink "$images/desktop.png"
kill "$desktop" 2>/dev/null || true

# --- The web client of --serve, in headless Chromium ---------------------------------------
# Port 0: any free port, read back from what the server prints. On loopback it asks for no
# token, and without --library it serves the built-in sample.
"$binary" --serve --bind 127.0.0.1 --port 0 >"$work/serve.log" 2>&1 &
pids+=($!)
server=$!
url=""
for _ in $(seq "$patience"); do
  url="$(grep -o 'at http://127\.0\.0\.1:[0-9]*/' "$work/serve.log" | head -n 1 | cut -c4- || true)"
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || fail "the server did not start: $(cat "$work/serve.log")"
  sleep 1
done
[ -n "$url" ] || fail "the server printed no address within $patience s"
for _ in $(seq "$patience"); do
  python3 -c 'import sys, urllib.request; sys.exit(urllib.request.urlopen(sys.argv[1]).read() != b"ready\n")' \
    "${url}readyz" 2>/dev/null && break
  sleep 1
done

# Headless Chromium with the page, driven over the DevTools protocol (as
# tests/tests/web_page/browser.rs drives it): the page opens the first series the server lists (the
# sample) by itself; the picture is taken once its final still is drawn.
"$chromium" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
  --no-default-browser-check --disable-background-networking --remote-debugging-port=0 \
  --user-data-dir="$work/chromium" --window-size="$width,$height" "$url" 2>"$work/chromium.log" &
pids+=($!)
devtools=""
for _ in $(seq 60); do
  devtools="$(grep -o 'ws://127\.0\.0\.1:[0-9]*/' "$work/chromium.log" | head -n 1 || true)"
  [ -n "$devtools" ] && break
  sleep 1
done
[ -n "$devtools" ] || fail "Chromium did not start: $(tail -n 5 "$work/chromium.log")"
SCREENSHOT_SIZE="${width}x${height}" python3 - "$devtools" "$url" "$work/web.png" "$patience" <<'PYTHON' || fail "the web page showed no volume within $patience s"
import base64, json, os, socket, struct, sys, time, urllib.request

devtools, page_url, out, patience = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
deadline = time.monotonic() + patience
http = devtools.replace("ws://", "http://", 1)

def page_socket():
    """The DevTools WebSocket of the tab showing the page."""
    while time.monotonic() < deadline:
        with urllib.request.urlopen(http + "json/list") as answer:
            for target in json.load(answer):
                if target.get("type") == "page" and target.get("url", "").startswith(page_url):
                    return target["webSocketDebuggerUrl"]
        time.sleep(0.5)
    sys.exit("no tab with the page")

def connect(url):
    host_port, path = url[len("ws://"):].split("/", 1)
    host, port = host_port.split(":")
    sock = socket.create_connection((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += sock.recv(1)
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        sys.exit("DevTools refused the WebSocket: " + head.decode(errors="replace"))
    return sock

def exactly(sock, n):
    data = b""
    while len(data) < n:
        part = sock.recv(n - len(data))
        if not part:
            sys.exit("DevTools closed the WebSocket")
        data += part
    return data

def send(sock, text):
    data, mask = text.encode(), os.urandom(4)
    n = len(data)
    size = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n)
    sock.sendall(bytes([0x81]) + size + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

def receive(sock):
    message = b""
    while True:
        first, second = exactly(sock, 2)
        n = second & 0x7F
        if n == 126:
            n = struct.unpack(">H", exactly(sock, 2))[0]
        elif n == 127:
            n = struct.unpack(">Q", exactly(sock, 8))[0]
        payload = exactly(sock, n)
        if first & 0x0F in (0x9, 0xA):
            continue
        message += payload
        if first & 0x80:
            return json.loads(message)

sock = connect(page_socket())
calls = 0
def call(method, **params):
    global calls
    calls += 1
    send(sock, json.dumps({"id": calls, "method": method, "params": params}))
    while True:
        answer = receive(sock)
        if answer.get("id") == calls:
            return answer.get("result", {})

# The page's viewport the size of the picture (the window's size includes what headless
# Chromium keeps for its own bars).
width, height = (int(side) for side in os.environ["SCREENSHOT_SIZE"].split("x"))
call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

# The series opened and its final still (flag bit 1) drawn.
drawn = "window.hounsfield?.opened != null && ((window.hounsfield.lastHeader?.flags ?? 0) & 2) === 2"
while time.monotonic() < deadline:
    result = call("Runtime.evaluate", expression=drawn, returnByValue=True)
    if result.get("result", {}).get("value") is True:
        time.sleep(1)
        shot = call("Page.captureScreenshot", format="png")
        with open(out, "wb") as file:
            file.write(base64.b64decode(shot["data"]))
        sys.exit(0)
    time.sleep(1)
sys.exit(1)
PYTHON
cp "$work/web.png" "$images/web.png"
shrink "$images/web.png"
