// The browser client: connects to /ws, lists the series, draws the frames on the canvas
// (JPEG and PNG as images, H.264 through WebCodecs when the browser has it) and turns
// pointer, touch and keys into inputs. No build step: plain ES modules.

import {
  Connection,
  FLAG_CINEMATIC,
  FLAG_FINAL,
  FLAG_LOSSLESS,
  FLAG_REFINING,
  viewportOf,
} from "./protocol.js";
import { attachKeys, attachPointer, sliceAt } from "./input.js";
import { H264Player, canDecodeH264 } from "./video.js";
import { WebRtcReceiver, canUseWebRtc } from "./webrtc.js";
import { drawOverlay } from "./overlay.js";
import { attachPlaneTurning, axesOf } from "./planes.js";
import { attachCrop } from "./crop.js";
import { attachLight } from "./light.js";
import { attachTime } from "./time.js";
import { attachCalcium } from "./calcium.js";
import { attachOver } from "./over.js";
import { BesideReading } from "./beside.js";
import { attachPriors } from "./priors.js";
import { attachTransfer } from "./transfer.js";
import { attachSlabs } from "./slabs.js";
import { lengthInCell, pixelsInCell, rulerLabel, slicePosition, visibleRulers } from "./rulers.js";
import { FINDING_TOOLS, findingCentre, visibleFindings } from "./findings.js";
import { attachFindingTools } from "./finding-tools.js";
import { FindingsPanel } from "./findings-panel.js";
import { Segments } from "./segments.js";
import { NoteForm } from "./note-form.js";
import { logIn } from "./login.js";
import { StudyBrowser } from "./studies.js";
import { Pointers, attachPointerSharing } from "./pointers.js";
import { SharedControls, changesTheView } from "./control.js";
import { Recordings } from "./recordings.js";
import { MovieExport } from "./movie.js";

const $ = (id) => document.getElementById(id);
const canvas = $("view");
const context = canvas.getContext("2d");
const overlaySvg = $("overlay");
// The other participants' pointers in a shared session, over the frames.
const pointers = new Pointers($("pointers"));
const drawPointers = () => pointers.draw(overlay.layout ?? state.layout, canvas.width, canvas.height);
const status = $("status");

// What the page shows; also read by the browser test.
const state = {
  connection: "connecting…",
  // What carries the interactive frames ("websocket" or "webrtc"), and why not WebRTC
  // when it was offered and is not used.
  transport: "websocket",
  transportReason: null,
  // Frames drawn from WebRTC, and those of them whose note named their frame and input.
  rtpFrames: 0,
  rtpNamed: 0,
  frames: 0,
  lastHeader: null,
  opened: null,
  window: { width: 400, center: 40 },
  // "1x1" or "2x2" (the server draws the 2×2 cells into the one frame).
  layout: "1x1",
  // Where the server says the crosshair is (LPS mm), after slice or crosshair inputs.
  crosshair: null,
  // Each slice cell's right and down (LPS) while the slice planes are turned, as the
  // server's latest `crosshair` message gave them ({axial: {right, down}, ...}); null
  // while they are the standard planes.
  planes: null,
  // The crop box `{min, max}` (fractions along i, j, k), or null for the whole volume.
  crop: null,
  // The 3D view's light as the server's view last said it or this page last sent it
  // ({direction, shadows, occlusion, cinematic}), or null for the headlight without any.
  lighting: null,
  // The last cinematic picture announced ({frameSeq, paths, most}), or null.
  cinematic: null,
  // Each slice cell's slab as the server's view last said it ({coronal: {mm, mode}, ...};
  // a cell left out is a thin slice).
  slabs: {},
  presets: [],
  modes: [],
  // Rulers kept with their slices: {plane, from_lps, to_lps, mm, slice_mm, normal}; the one being
  // drawn ({plane, from, to} in cell fractions); whether the ruler tool is on.
  rulers: [],
  draftRuler: null,
  // The tool a left drag or one finger uses: "ruler", "window" (window/level), a findings
  // tool ("ellipse", "rectangle", "freehand", "angle", "arrow") or null.
  tool: null,
  // The open series' findings as the server told them ({id, kind, cell, points_lps, stats?,
  // length_mm?, angle_deg?, note?, author?}), the selected one's id, the last `saved`
  // answer, and what the last save said (saved where, or why not).
  findings: [],
  findingsSeries: null,
  selectedFinding: null,
  saved: null,
  saveStatus: null,
  bytes: [],
  error: null,
  // The sequence number of the latest input sent, and of the latest that changes the
  // picture (`interact` alone does not: a final still answering `changed` shows it all).
  sent: 0,
  changed: 0,
  // The codec of interactive frames (from welcome), its encoder, and why not H.264.
  codec: null,
  encoder: null,
  fallback: null,
  offered: [],
  videoFrames: 0,
  decodeErrors: 0,
  keyframeRequests: 0,
};
window.hounsfield = state;

function viewport() {
  return viewportOf(canvas, { width: 640, height: 480 });
}

let drawnSeq = 0;

// What the overlay shows (the layout and where the crosshair shows in the slice cells),
// and the latest change of each still waiting for the first frame that answers it, so
// that the lines move with the picture.
// `geometry` (the crosshair's LPS point and cells, each cell's mm per pixel) places rulers.
const overlay = { layout: "1x1", geometry: null, dueLayout: null, dueCells: null };

/** Takes the overlay changes the frame answering input `inputSeq` shows, and redraws. */
function showOverlay(inputSeq) {
  if (overlay.dueLayout && inputSeq >= overlay.dueLayout.seq) {
    overlay.layout = overlay.dueLayout.layout;
    overlay.dueLayout = null;
  }
  if (overlay.dueCells && inputSeq >= overlay.dueCells.seq) {
    overlay.geometry = overlay.dueCells.geometry;
    overlay.dueCells = null;
  }
  redrawOverlay();
}
/**
 * A link's `?token=`, taken out of the address bar at once (so it stays out of the
 * browser's history, bookmarks and screenshots) to be exchanged for a login cookie.
 */
function takeLinkToken(params) {
  const fromUrl = params.get("token");
  if (fromUrl === null) return null;
  const rest = new URLSearchParams(params);
  rest.delete("token");
  const query = rest.toString();
  history.replaceState(null, "", location.pathname + (query ? `?${query}` : "") + location.hash);
  return fromUrl;
}
const params = new URLSearchParams(location.search);
const linkToken = takeLinkToken(params);

/** Shows who is logged in (and the logout button), or nobody. */
function showWho(who) {
  state.user = who?.user ?? null;
  transferEditor.allowServerSave(who?.role === "admin");
  $("who").hidden = !state.user;
  $("who").textContent = state.user ? `${state.user} (${who.role})` : "";
  $("logout").hidden = !state.user;
}

/**
 * Exchanges `token` for a login cookie (HttpOnly: this page never holds the token
 * afterwards); the server's answer, or null with the reason shown in the form.
 */
async function logInAs(token) {
  const { who, reason } = await logIn(token);
  if (!who) {
    $("login-error").textContent = reason;
    return null;
  }
  showWho(who);
  return who;
}

/**
 * Offers the site's identity provider beside the token where the server has one: its
 * sign-in comes back to this page's address (a worklist's `?study=` link included).
 */
function offerSignOn(who) {
  const link = $("sign-on");
  link.hidden = !who?.sign_on;
  const here = location.pathname + location.search;
  link.href = `${new URL("auth/login", location.href).pathname}?next=${encodeURIComponent(here)}`;
}

/** Shows the login form until a token is accepted (or the provider signs the user in). */
function askLogin(why) {
  const form = $("login");
  $("login-error").textContent = why ?? "";
  form.hidden = false;
  state.loginShown = true;
  $("login-token").focus();
  return new Promise((done) => {
    form.onsubmit = async (event) => {
      event.preventDefault();
      const token = $("login-token").value.trim();
      $("login-token").value = "";
      if (token && (await logInAs(token))) {
        form.hidden = true;
        state.loginShown = false;
        done();
      }
    };
  });
}

/** Logged in before the socket opens: by the link's token, an earlier login, or the form. */
async function ensureLogin() {
  if (linkToken !== null && (await logInAs(linkToken))) return;
  const response = await fetch(new URL("whoami", location.href), { credentials: "same-origin" });
  const who = response.ok ? await response.json() : { required: true };
  showWho(who);
  offerSignOn(who);
  if (who.required && !who.user) {
    await askLogin(linkToken !== null ? $("login-error").textContent : "");
  }
}
// `?node=NAME` (a share link from a server of several): the proxy sends the socket to that
// render node, where the shared session lives.
const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws${
  params.get("node") ? `?node=${encodeURIComponent(params.get("node"))}` : ""
}`;

/** Draws a decoded picture (an ImageBitmap, a VideoFrame, or the WebRTC video element
 *  where there is no WebCodecs) unless a newer one is up; `unnamed`: a WebRTC frame whose
 *  note was lost, drawn as it comes. */
function draw(header, picture, unnamed = false) {
  // Images decode in parallel: an older one finishing late is not drawn over a newer.
  if (!unnamed && header.frameSeq <= drawnSeq) {
    picture.close?.();
    return;
  }
  if (!unnamed) drawnSeq = header.frameSeq;
  // The canvas holds the view's pixels; a picture sent smaller is scaled up (bilinearly,
  // as the server's renderer would have).
  if (canvas.width !== header.displayWidth || canvas.height !== header.displayHeight) {
    canvas.width = header.displayWidth;
    canvas.height = header.displayHeight;
  }
  context.drawImage(picture, 0, 0, canvas.width, canvas.height);
  picture.close?.();
  showOverlay(header.inputSeq);
  state.frames += 1;
  state.lastHeader = header;
}

const player = new H264Player({
  onFrame: (header, frame) => {
    state.videoFrames += 1;
    draw(header, frame);
  },
  askKeyframe: () => {
    state.keyframeRequests += 1;
    connection.send({ type: "keyframe" });
  },
});

const connection = new Connection(wsUrl, {
  onRefused: async (reason) => {
    // The login ended (expired, logged out elsewhere, the user removed): log in again.
    showWho(null);
    await askLogin(reason);
    connection.connect();
  },
  viewport: viewport(),
  codecs: ["jpeg", "png"],
  onState: (text) => {
    state.connection = text;
    render();
  },
  onMessage: handleMessage,
  onFrame: async (header, blob) => {
    state.bytes.push([performance.now(), blob.size + 32]);
    draw(header, await createImageBitmap(blob));
  },
  onVideo: (header, bytes) => {
    state.bytes.push([performance.now(), bytes.byteLength + 32]);
    player.decode(header, bytes);
    state.decodeErrors = player.errors;
  },
});

// Series beside the first (a prior, a hanging protocol's other cells): sessions of their
// own, following this one's inputs (`window.hounsfieldBeside` for tests).
const beside = new BesideReading($("stage"), {
  wsUrl,
  token: () => connection.token,
  windowLink: () => $("beside-window-link").checked,
});
window.hounsfieldBeside = beside.state;
// The Priors section: the patient's other studies, each series opened beside.
const priors = attachPriors(document, (cell) => {
  if (!beside.add(cell)) state.error = "at most three series beside the first: close one first";
});
window.hounsfieldPriors = priors.state;

/**
 * Lays the reading out as the hanging protocol `open_study` announced, once its first
 * cell's series opened here: that cell's layout, window and preset, the other cells
 * beside. Any other series opened (`before`: the one shown until now) closes what was beside.
 */
function hangOrClear(opened, before) {
  const hanging = state.hanging;
  state.hanging = null;
  // The same series opened again (after a reconnection) keeps what is beside it.
  if (!hanging && opened.series === before) return;
  if (!hanging || hanging.cells[0]?.series !== opened.series) {
    beside.clear();
    priors.clear();
    return;
  }
  const [first, ...others] = hanging.cells;
  if (first.layout) setLayout(first.layout);
  if (first.window) {
    state.window = { ...first.window };
    send("window", state.window);
  }
  if (first.preset && opened.presets.includes(first.preset)) {
    send("preset", { name: first.preset });
    $("preset").value = first.preset;
  }
  beside.show(others);
}

// The session's WebRTC peer, while it has one (`window.hounsfieldWebRtc` for tests).
let receiver = null;
const rtpVideo = $("rtp-video");

/** Offers the server a WebRTC peer for the frames (its `welcome` offered WebRTC). */
function startWebRtc() {
  stopWebRtc();
  const started = new WebRtcReceiver({
    video: rtpVideo,
    send: (message) => connection.send(message),
    onFrame: (header, frame) => {
      state.rtpFrames += 1;
      if (header.named) {
        state.rtpNamed += 1;
        state.videoFrames += 1;
        connection.noteLatency(header.inputSeq);
      }
      draw(header, frame, !header.named);
    },
    onClosed: (reason) => {
      receiver = null;
      state.transport = "websocket";
      state.transportReason = reason;
      render();
    },
  });
  receiver = started;
  window.hounsfieldWebRtc = started;
  started.start().catch((error) => {
    if (receiver === started) receiver = null;
    started.close();
    state.transportReason = `WebRTC did not start: ${error.message}`;
  });
}

function stopWebRtc() {
  if (receiver) receiver.close();
  receiver = null;
  state.transport = "websocket";
}

/** H.264 first where WebCodecs decodes it (`?codec=jpeg` asks for JPEG only). */
async function offeredCodecs() {
  if (params.get("codec") === "jpeg") return ["jpeg", "png"];
  return (await canDecodeH264()) ? ["h264", "jpeg", "png"] : ["jpeg", "png"];
}

function handleMessage(message) {
  switch (message.type) {
    case "welcome":
      state.connection = `connected (session ${message.session}${message.node ? ` on ${message.node}` : ""})`;
      state.session = message.session;
      state.node = message.node ?? null;
      state.codec = message.codec ?? "jpeg";
      state.encoder = message.encoder ?? null;
      state.fallback = message.fallback ?? null;
      if (state.fallback) console.info("JPEG instead of H.264:", state.fallback);
      // A new session: its frames count from 1 and its H.264 stream starts afresh.
      drawnSeq = 0;
      player.reset();
      state.transportReason = null;
      if (message.transports?.includes("webrtc")) startWebRtc();
      else stopWebRtc();
      break;
    case "webrtc_answer":
      receiver?.answer(message.sdp).catch((error) => {
        state.transportReason = `the server's WebRTC answer: ${error.message}`;
        stopWebRtc();
      });
      break;
    case "transport":
      state.transport = message.transport;
      state.transportReason = message.reason ?? null;
      if (message.transport === "websocket") {
        // The server dropped the peer: H.264 comes over the WebSocket again, from a keyframe
        // (JPEG, where this page has no WebCodecs).
        stopWebRtc();
        player.reset();
      }
      break;
    case "codec":
      state.codec = message.codec;
      state.encoder = null;
      state.fallback = message.reason;
      player.reset();
      break;
    case "studies":
      over.studies(message);
      showStudies(message);
      break;
    case "progress":
      // A long load under way on the server: how many of the series' images are in.
      state.loading = message;
      showLoading(message);
      break;
    case "opened": {
      state.loading = null;
      showLoading(null);
      const before = state.opened?.series;
      state.opened = message;
      showWarnings(message.warnings ?? []);
      // Frames drawn before this series' first (its frames are those counted after).
      state.framesAtOpen = state.frames;
      browser.mark(message.series);
      state.presets = message.presets;
      state.modes = message.modes;
      if (message.window) state.window = { ...message.window };
      if (message.view?.window) state.window = { ...message.view.window };
      showLayout(message.view?.layout ?? "1x1");
      state.crosshair = message.view?.crosshair_lps ?? null;
      state.crop = message.view?.crop ?? null;
      showCrop(state.crop);
      keepLight(message.view?.lighting);
      keepSlabs(message.view?.slabs);
      time.opened(message);
      calcium.opened(message);
      over.opened(message);
      // Opening a series ends a share this page made, and the pointers of any it was in.
      state.shareLink = null;
      pointers.clear();
      drawPointers();
      controls.clear();
      recordings.opened();
      // Rulers and findings belong to the series they were drawn on (its findings follow).
      state.rulers = [];
      pendingMeasures.length = 0;
      showFindings(message.series, []);
      findingReplies.length = 0;
      findingTools.cancel();
      segments.opened();
      // A series opens with its segments shown with the volume.
      $("segments-3d").value = "with_volume";
      state.saveStatus = null;
      findingsPanel.showSaved(null);
      fillSelect($("preset"), message.presets, message.preset);
      fillSelect($("mode"), message.modes, message.mode);
      hangOrClear(message, before);
      // The editor, when open, edits the new series' function over its histogram.
      if ($("transfer").open) connection.send({ type: "transfer_function" });
      canvas.focus();
      break;
    }
    case "hanging":
      // The protocol `open_study` applied: its first cell's series opens next.
      state.hanging = message;
      state.hungBy = message.protocol;
      priors.hung(message);
      break;
    case "priors":
      priors.told(message);
      break;
    case "view":
      // The view at rest (also after a reconnection handed it back).
      if (message.view?.window) state.window = { ...message.view.window };
      if (message.view?.layout && message.view.layout !== state.layout) showLayout(message.view.layout);
      state.crop = message.view?.crop ?? null;
      showCrop(state.crop);
      keepLight(message.view?.lighting);
      keepSlabs(message.view?.slabs);
      transferEditor.follow(message.view);
      break;
    case "preset_saved":
      // An administrator's preset kept on the server: offered here, and to new sessions.
      state.presets = message.presets;
      fillSelect($("preset"), message.presets, $("preset").value);
      transferEditor.saved(message);
      break;
    case "transfer_function":
      // What the Transfer section edits: the function shown and the volume's histogram.
      if (message.series === state.opened?.series) transferEditor.show(message);
      break;
    case "probe":
      // The value under the pointer, as the server (where the voxels are) read it.
      state.probe = message;
      time.probed(message);
      break;
    case "over":
      // The series the server draws over the slices now (none: `shown` absent).
      over.told(message);
      break;
    case "time_point":
      // The next frame shows another volume of the series over time.
      time.told(message);
      break;
    case "measure":
      keepRuler(message);
      break;
    case "findings":
      showFindings(message.series, message.findings);
      break;
    // The series' segments and each change to them (this page's or another participant's).
    case "segments":
    case "segment":
    case "segment_deleted":
    case "shared_segment":
    case "shared_segment_deleted":
    case "segmentations":
    case "model_progress":
      segments.take(message);
      replotSegment(message.type === "segment" ? message : message.segment);
      break;
    case "calcium":
      calcium.take(message);
      break;
    case "finding":
    case "finding_deleted":
      findingReplies.shift();
      keepFinding(message);
      if (message.type === "finding") replotFinding(message);
      break;
    // What another participant of the shared session drew or deleted, as they made it.
    case "shared_finding":
      keepFinding({ type: "finding", ...message.finding });
      replotFinding(message.finding);
      break;
    case "shared_finding_deleted":
      keepFinding({ type: "finding_deleted", id: message.id });
      break;
    case "recording":
    case "recordings":
    case "playback_state":
      recordings.take(message);
      state.playback = recordings.playing;
      state.recording = recordings.recording;
      break;
    case "movie_progress":
    case "movie_ready":
    case "movie_failed":
      movieExport.take(message);
      break;
    case "control":
    case "control_requested":
    case "control_refused":
      controls.take(message, state.session);
      state.control = controls.describe();
      break;
    case "saved":
      if (segments.saved(message)) break;
      findingReplies.shift();
      showSaved(message);
      break;
    case "shared":
      // The address others join this view with (the token stays out of it).
      state.shareLink = new URL(message.link, location.href).href;
      console.info("share link:", state.shareLink);
      break;
    case "pointer":
      pointers.take(message);
      drawPointers();
      break;
    case "error":
      if (state.loading) {
        state.loading = null;
        showLoading(null);
      }
      state.error = `${message.code}: ${message.message}`;
      console.warn("server:", state.error);
      // The refusal of a segment's change, or of a finding or a save (their replies come
      // in the order asked).
      if (segments.refused(message)) break;
      if (calcium.refused(message)) break;
      if (findingReplies.length > 0) findingRefused(findingReplies.shift(), message);
      else if (/movie/.test(message.message)) movieExport.refused(state.error);
      break;
    case "stats":
      state.stats = message;
      break;
    case "cinematic":
      state.cinematic = { frameSeq: message.frame_seq, paths: message.paths, most: message.most };
      break;
    case "crosshair":
      state.crosshair = message.crosshair_lps;
      state.planes = message.planes ?? null;
      overlay.dueCells = {
        seq: message.seq,
        geometry: {
          crosshairLps: message.crosshair_lps,
          cells: message.cells,
          mmPerPixel: message.mm_per_pixel,
          planes: message.planes ?? null,
        },
      };
      break;
  }
  render();
}

/** What the server says the reader must know about the series just opened (missing
 * slices, images the PACS did not deliver…), shown above the view until dismissed. */
function showWarnings(warnings) {
  const list = $("warning-list");
  list.replaceChildren(...warnings.map((warning) => {
    const item = document.createElement("li");
    item.textContent = warning;
    return item;
  }));
  $("warnings").hidden = warnings.length === 0;
}
$("warnings-dismiss").addEventListener("click", () => { $("warnings").hidden = true; });

/** Shows how far the server has come loading a series (`progress`), or hides the bar. */
function showLoading(progress) {
  const box = $("loading");
  box.hidden = !progress;
  if (!progress) return;
  const bar = $("loading-bar");
  bar.max = Math.max(progress.total, 1);
  bar.value = Math.min(progress.done, bar.max);
  $("loading-text").textContent = `Loading on the server: ${progress.done} of ${progress.total} images (${progress.stage})`;
}

function fillSelect(select, values, selected, labels = values) {
  select.replaceChildren(
    ...values.map((value, n) => {
      const option = new Option(labels[n], value);
      option.selected = value === selected;
      return option;
    }),
  );
}

// The study browser beside the view; it asks for its pages over the session's socket.
const browser = new StudyBrowser($("browser"), {
  send: (message) => connection.send(message),
  open: (id) => {
    connection.openSeries(id);
    browser.mark(id);
    // On a narrow screen the browser covers the view: out of the way once a series opens.
    if (window.matchMedia("(max-width: 700px)").matches) showBrowser(false);
  },
  state,
});
connection.studiesRequest = () => browser.message();
// A worklist's or a PACS viewer's link: `?study=UID` (or `?accession=`, `?patient=` ID)
// opens that study's first series, after the login.
const link = { study: params.get("study"), accession: params.get("accession"), patient: params.get("patient") };
browser.linkTo(link);

/** Shows or hides the study browser. */
function showBrowser(shown) {
  $("browser").hidden = !shown;
  $("browser-toggle").setAttribute("aria-expanded", String(shown));
}
$("browser-toggle").addEventListener("click", () => showBrowser($("browser").hidden));

/** Shows a page of studies; the first ever opens the first series that opens (a volume first). */
function showStudies(message) {
  browser.show(message);
  if (connection.series || connection.join) return;
  if (browser.view.linked && message.studies.length === 0) {
    const named = Object.entries(link).filter(([, value]) => value).map(([key, value]) => `${key} ${value}`);
    state.error = `no study here matches the link (${named.join(", ")})`;
    return;
  }
  // The first study with a volume opens as the site's hanging protocols lay it out.
  const isVolume = (s) => !s.unavailable && (s.kind ?? "volume") === "volume";
  const study = message.studies.find((candidate) => candidate.series.some(isVolume));
  if (study) {
    connection.openStudy(study.id);
    return;
  }
  const first = message.studies.flatMap((candidate) => candidate.series).find((s) => !s.unavailable);
  if (first) connection.openSeries(first.id);
}

const send = (action, fields) => {
  // In a shared session only the one steering changes the view (the server refuses the others).
  if (changesTheView(action) && !controls.maySteer()) {
    state.error = `${controls.describe()}: ask for control to change the view`;
    return;
  }
  connection.input(action, fields);
  beside.follow(action, fields);
  state.sent = connection.seq;
  if (action !== "interact") state.changed = connection.seq;
};

$("preset").addEventListener("change", (event) => send("preset", { name: event.target.value }));
$("segments-3d").addEventListener("change", (event) => send("segments_3d", { show: event.target.value }));
$("mode").addEventListener("change", (event) => send("mode", { mode: event.target.value }));
$("reset").addEventListener("click", () => {
  send("reset");
  keepCrop(null);
  showCrop(null);
  rememberLight(null);
  if (connection.view) delete connection.view.lighting;
  showLight(null);
});
/** Remembers `box` (null: the whole volume) in the page's state and the view a reconnection hands back. */
function keepCrop(box) {
  const whole = box && box.min.every((v) => v === 0) && box.max.every((v) => v === 1);
  state.crop = box && !whole ? { min: [...box.min], max: [...box.max] } : null;
  if (connection.view) {
    if (state.crop) connection.view.crop = state.crop;
    else delete connection.view.crop;
  }
}
const showCrop = attachCrop($("crop"), send, keepCrop);
// The Transfer section: the transfer function's editor over the volume's histogram.
const transferEditor = attachTransfer($("transfer"), {
  ask: () => connection.send({ type: "transfer_function" }),
  sendTransfer: (preset) => send("transfer", { preset }),
  interact: (active) => send("interact", { active }),
  saveOnServer: (preset) => connection.send({ type: "save_preset", preset }),
});
// For tests: where the editor's points are, and the file Save writes.
window.hounsfieldTransfer = transferEditor;
// The Time controls and the Curve panel of a series over time.
const time = attachTime(document, send);
window.hounsfieldTime = time.state;
window.hounsfieldCurveCsv = time.csv;
// The Calcium panel of a CT: the server's calcium score.
const calcium = attachCalcium(document, (message) => {
  if (!connection.open) return false;
  connection.send(message);
  return true;
});
window.hounsfieldCalcium = calcium.state;
// The Over section: another series of the study drawn over the slices.
const over = attachOver(document, (message) => connection.send(message));
window.hounsfieldOver = over.state;
/** Remembers the light sent in the page's state and the view a reconnection hands back. */
function rememberLight(lighting) {
  state.lighting = lighting;
  if (connection.view) connection.view.lighting = lighting;
}
// The Light section: where the light comes from, its shadows and ambient occlusion.
const showLight = attachLight($("light"), send, rememberLight);
/** Keeps and shows the light of the server's view (absent: the headlight, neither). */
function keepLight(lighting) {
  state.lighting = lighting ?? null;
  showLight(lighting);
}
// The slab control in each slice cell of the 2×2 layout; it shows what the server's view says.
const showSlabs = attachSlabs($("slabs"), send);
/** Keeps and shows the slabs of the server's view (absent: every cell thin). */
function keepSlabs(slabs) {
  state.slabs = { ...(slabs ?? {}) };
  showSlabs(state.slabs);
}
$("share").addEventListener("click", () => connection.send({ type: "share" }));

/** Marks `layout` as the one shown (the overlay follows from the frame that answers it). */
function showLayout(layout) {
  state.layout = layout;
  overlay.dueLayout = { seq: state.sent, layout };
  for (const button of document.querySelectorAll("#layouts button[data-layout]")) {
    button.setAttribute("aria-pressed", String(button.dataset.layout === layout));
  }
  // The slice planes are turned in the 2×2 layout's cells, and put back there.
  $("reset-planes").hidden = layout !== "2x2";
  $("slabs").hidden = layout !== "2x2";
}
/** Asks the server for `layout`. */
function setLayout(layout) {
  if (layout === state.layout) return;
  send("layout", { name: layout });
  showLayout(layout);
}
for (const button of document.querySelectorAll("#layouts button[data-layout]")) {
  button.addEventListener("click", () => setLayout(button.dataset.layout));
}
$("reset-planes").addEventListener("click", () => send("reset_planes"));
/** A wheel step on a slice: the smallest voxel spacing (1 mm before a series opens). */
const sliceStepMm = () => {
  const spacing = state.opened?.spacing_mm;
  return spacing ? Math.min(...spacing) : 1;
};
$("still").addEventListener("click", () => connection.send({ type: "still", lossless: true }));
for (const button of document.querySelectorAll("#windows button")) {
  button.addEventListener("click", () => {
    const [width, center] = button.dataset.window.split(",").map(Number);
    state.window = { width, center };
    send("window", state.window);
  });
}

// Rulers: drawn by a drag on a slice (shift-drag, or any drag with the tool on), measured
// by the server, then kept with their slice.
const pendingMeasures = [];
/** Redraws the overlay with the rulers and findings as they stand. */
const redrawOverlay = () => {
  drawOverlay(overlaySvg, overlay.layout, canvas.width, canvas.height, overlay.geometry, rulersShown(), findingsShown());
  drawPointers();
};
/** The rulers on the slices shown now, and the one being drawn. */
function rulersShown() {
  if (overlay.layout !== "2x2") return [];
  const shown = visibleRulers(state.rulers, overlay.geometry, canvas.width, canvas.height, sliceStepMm() / 2);
  const draft = state.draftRuler;
  if (draft) {
    const mm = lengthInCell(overlay.geometry, draft.plane, draft.from, draft.to, canvas.width, canvas.height);
    shown.push({ ...draft, label: mm === null ? "" : rulerLabel(mm) });
  }
  return shown;
}
/** Keeps the ruler the server measured (the answer to the oldest `measure` sent). */
function keepRuler(measure) {
  if (pendingMeasures.shift() !== measure.cell) return;
  // The planes as the server last told them: those it measured on.
  const geometry = overlay.dueCells?.geometry ?? overlay.geometry;
  state.rulers.push({
    plane: measure.cell,
    from_lps: measure.from_lps,
    to_lps: measure.to_lps,
    mm: measure.mm,
    slice_mm: slicePosition(measure.cell, measure.from_lps, geometry),
    normal: axesOf(geometry, measure.cell).normal,
  });
  state.lastRuler = `${measure.cell} ruler ${rulerLabel(measure.mm)}`;
  redrawOverlay();
}
const ruler = {
  begin: (at) => {
    state.draftRuler = { plane: at.plane, from: [at.x, at.y], to: [at.x, at.y] };
    redrawOverlay();
  },
  move: (at) => {
    if (!state.draftRuler) return;
    state.draftRuler.to = [at.x, at.y];
    redrawOverlay();
  },
  cancel: () => {
    state.draftRuler = null;
    redrawOverlay();
  },
  end: () => {
    const draft = state.draftRuler;
    state.draftRuler = null;
    // A click is no ruler: at least 3 pixels long.
    if (draft && pixelsInCell(draft.plane, draft.from, draft.to, canvas.width, canvas.height) >= 3) {
      pendingMeasures.push(draft.plane);
      connection.send({ type: "measure", cell: draft.plane, from: draft.from, to: draft.to });
    }
    redrawOverlay();
  },
};
/** Turns `tool` on (the other tool off), or off when it is on already. */
function toggleTool(tool) {
  state.tool = state.tool === tool ? null : tool;
  for (const button of document.querySelectorAll("#tools button[data-tool]")) {
    button.setAttribute("aria-pressed", String(button.dataset.tool === state.tool));
  }
  // What was being drawn with the tool before goes.
  findingTools.cancel();
  // Rulers and findings are drawn on the slices of the 2×2 layout.
  if (state.tool === "ruler" || FINDING_TOOLS.includes(state.tool)) setLayout("2x2");
}
for (const button of document.querySelectorAll("#tools button[data-tool]")) {
  button.addEventListener("click", () => toggleTool(button.dataset.tool));
}
$("clear-rulers").addEventListener("click", () => {
  state.rulers = [];
  state.lastRuler = null;
  redrawOverlay();
  render();
});
window.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || !state.draftRuler) return;
  // Esc drops the ruler being drawn.
  state.draftRuler = null;
  redrawOverlay();
  event.preventDefault();
});

// Findings: drawn with the findings tools on a slice, measured and kept by the server
// with the series; listed in the findings panel and saved as a report on demand.
// The replies awaited to `finding` and `save_findings` requests, oldest first.
const findingReplies = [];
/**
 * Sends a `finding` request, or one that stores a document (`save_findings`, `key_image`,
 * `snapshot`), whose reply is then awaited; whether it went.
 */
function askFindings(message) {
  if (!connection.open) return false;
  const awaited = { finding: message.action, save_findings: "save" }[message.type] ?? "document";
  findingReplies.push(awaited);
  connection.send(message);
  return true;
}
/** The findings kept on the slices shown now (as the tools pick them). */
const findingsOnSlices = () =>
  overlay.layout === "2x2"
    ? visibleFindings(state.findings, overlay.geometry, canvas.width, canvas.height, sliceStepMm() / 2)
    : [];
/** The findings on the slices shown now, the selected one marked, and the one being drawn. */
function findingsShown() {
  if (overlay.layout !== "2x2") return [];
  return findingTools
    .shapes(findingsOnSlices())
    .map((shape) => (shape.id === state.selectedFinding ? { ...shape, selected: true } : shape));
}
/** Shows `findings` as the findings of `series`, in the overlay and the panel. */
function showFindings(series, findings) {
  state.findingsSeries = series;
  state.findings = findings;
  if (!findings.some((finding) => finding.id === state.selectedFinding)) state.selectedFinding = null;
  findingsChanged();
}
/** Redraws what shows the findings: the overlay, the panel and its button's count. */
function findingsChanged() {
  $("findings-toggle").textContent = `Findings (${state.findings.length})`;
  findingsPanel.show(state.findings, state.selectedFinding);
  redrawOverlay();
}
/** Keeps the server's answer to a finding request: a finding drawn or redrawn, or deleted. */
function keepFinding(message) {
  if (message.type === "finding_deleted") {
    state.findings = state.findings.filter((finding) => finding.id !== message.id);
    if (state.selectedFinding === message.id) state.selectedFinding = null;
  } else {
    const { type: _type, ...finding } = message;
    const at = state.findings.findIndex((kept) => kept.id === finding.id);
    if (at >= 0) state.findings[at] = finding;
    else state.findings.push(finding);
  }
  findingTools.settle();
  findingsChanged();
}
/** A refused finding or save (`what` was asked): the draft goes, the save says why. */
function findingRefused(what, error) {
  if (what === "save" || what === "document") {
    const which = what === "save" ? "findings not saved" : "not stored";
    state.saveStatus = `${which}: ${error.message}`;
    findingsPanel.showSaved(state.saveStatus);
  }
  findingTools.settle();
}
/** Shows where the findings were saved. */
function showSaved(saved) {
  state.saved = saved;
  const what =
    saved.document === "measurement report"
      ? `${saved.findings} finding${saved.findings === 1 ? "" : "s"} as a ${saved.document}`
      : `a ${saved.document}`;
  state.saveStatus = `saved ${what} in the ${saved.stored_in}: ${saved.location}`;
  findingsPanel.showSaved(state.saveStatus);
}
/** Selects finding `id` (or none). */
function selectFinding(id) {
  state.selectedFinding = id;
  findingsChanged();
}
/** Asks the server to delete finding `id`. */
const removeFinding = (id) => askFindings({ type: "finding", action: "delete", id });
/**
 * Selects `finding` and moves the crosshair to its middle, so its slice shows it and the
 * other slices pass through it: a `slice` input along each plane's normal.
 */
function goToFinding(finding) {
  selectFinding(finding.id);
  setLayout("2x2");
  const from = state.crosshair;
  if (!from) return;
  const centre = findingCentre(finding);
  // Along each plane's normal as it faces now (turned or not): the normals are at right
  // angles, so the three steps bring the crosshair to the centre.
  const geometry = overlay.dueCells?.geometry ?? overlay.geometry;
  for (const plane of ["axial", "coronal", "sagittal"]) {
    const delta = slicePosition(plane, centre, geometry) - slicePosition(plane, from, geometry);
    if (Math.abs(delta) > 1e-3) send("slice", { plane, delta_mm: delta });
  }
}
const notes = new NoteForm($("finding-note"));
/** Asks for a new note of the arrow `finding`, beside its line in the panel. */
async function editNote(finding, event) {
  const note = await notes.ask(event.clientX - 280, event.clientY, finding.note ?? "");
  if (note !== null) askFindings({ type: "finding", action: "update", id: finding.id, note });
}
/** Plots a region's time-intensity curve (its mean in every volume) in the Curve panel. */
function plotFindingCurve(finding) {
  time.plot(`finding ${finding.id}`, `region ${finding.id}`, finding.values, finding.curve, finding.stats?.unit);
}
/** Plots a segment's time-intensity curve (the mean of its voxels in every volume). */
function plotSegmentCurve(segment) {
  const n = segment.numbers;
  time.plot(`segment ${segment.id}`, `segment ${segment.label}`, n.values, n.curve, n.unit);
}
/** A finding redrawn while its curve is plotted: the plot follows it. */
function replotFinding(finding) {
  if (finding && time.plotted() === `finding ${finding.id}`) plotFindingCurve(finding);
}
/** A segment edited while its curve is plotted: the plot follows it. */
function replotSegment(segment) {
  if (segment?.numbers && time.plotted() === `segment ${segment.id}`) plotSegmentCurve(segment);
}
const findingsPanel = new FindingsPanel($("findings"), {
  goTo: goToFinding,
  remove: removeFinding,
  editNote,
  plotCurve: plotFindingCurve,
});
$("findings-toggle").addEventListener("click", () => {
  const shown = $("findings").hidden;
  $("findings").hidden = !shown;
  $("findings-toggle").setAttribute("aria-expanded", String(shown));
});
$("save-findings").addEventListener("click", () => {
  const asked = askFindings({ type: "save_findings" });
  state.saveStatus = asked ? "saving findings…" : "findings not saved: not connected to the server";
  findingsPanel.showSaved(state.saveStatus);
  render();
});
/** Asks the server to store a document (`key_image`, `snapshot`), saying so meanwhile. */
function storeDocument(message, what) {
  const asked = askFindings(message);
  state.saveStatus = asked ? `storing the ${what}…` : `${what} not stored: not connected to the server`;
  findingsPanel.showSaved(state.saveStatus);
  render();
}
// The axial slice shown now marked as a key image (its stored image: the plane a CT is
// acquired in), and the 3D view stored as a snapshot, both where the study lives.
$("key-image").addEventListener("click", () => storeDocument({ type: "key_image", cell: "axial" }, "key image"));
$("snapshot").addEventListener("click", () => storeDocument({ type: "snapshot" }, "snapshot"));
// The segments panel; with its grow tool on, a press on a slice grows the selected
// segment and goes no further (the first of the pointer inputs).
const segments = new Segments(
  {
    panel: $("segments"),
    list: $("segments-list"),
    status: $("segments-status"),
    toggle: $("segments-toggle"),
    add: $("segment-add"),
    low: $("segment-low"),
    high: $("segment-high"),
    threshold: $("segment-threshold"),
    preview: $("segment-preview"),
    grow: $("segment-grow"),
    paint: $("segment-paint"),
    erase: $("segment-erase"),
    brushMm: $("segment-brush-mm"),
    fillBetween: $("segment-fill-between"),
    smoothMm: $("segment-smooth-mm"),
    closing: $("segment-closing"),
    median: $("segment-median"),
    largest: $("segment-largest"),
    split: $("segment-split"),
    margin: $("segment-margin"),
    marginMm: $("segment-margin-mm"),
    undo: $("segment-undo"),
    redo: $("segment-redo"),
    save: $("save-segments"),
    saved: $("segmentations-saved"),
    runModel: $("segment-run-model"),
    stopModel: $("segment-stop-model"),
  },
  (message) => {
    if (!connection.open) return false;
    connection.send(message);
    return true;
  },
  plotSegmentCurve,
);
segments.attach(canvas, () => state.layout);
state.segments = segments;
// With Name lesions on, a press on the axial slice names calcium lesions and goes no further.
calcium.attach(canvas, () => state.layout);
// First of the pointer inputs after it: a press on a handle of a plane's line turns the planes and
// goes no further (neither the findings tools nor the view's inputs see it).
attachPlaneTurning(canvas, {
  layout: () => overlay.layout,
  tool: () => state.tool,
  geometry: () => overlay.geometry,
  send,
});
// Before the view's pointer inputs: a press the findings tools use goes no further.
const findingTools = attachFindingTools(canvas, {
  tool: () => state.tool,
  layout: () => state.layout,
  shown: findingsOnSlices,
  selected: () => state.selectedFinding,
  select: selectFinding,
  send: askFindings,
  remove: removeFinding,
  redraw: redrawOverlay,
  notes,
});

// Who steers a shared session, and the buttons that hand the controls over.
const controls = new SharedControls(
  { ask: $("ask-control"), status: $("control-status"), requests: $("control-requests") },
  (message) => connection.send(message),
  () => Boolean(state.shareLink),
  () => Boolean(connection.join),
);
// Recording this session, and playing the series' recordings.
const recordings = new Recordings(
  {
    record: $("record"),
    toggle: $("recordings-toggle"),
    panel: $("recordings"),
    list: $("recordings-list"),
    timeline: $("playback"),
    play: $("playback-play"),
    seek: $("playback-seek"),
    time: $("playback-time"),
    speed: $("playback-speed"),
  },
  (message) => connection.send(message),
  () => state.opened?.series ?? null,
);
// "Export movie…": the server makes it, the page downloads it.
const movieExport = new MovieExport(
  {
    open: $("export-movie"),
    form: $("movie-form"),
    motion: $("movie-motion"),
    frames: $("movie-frames"),
    status: $("movie-status"),
    link: $("movie-link"),
  },
  (message) => connection.send(message),
  () => recordings.playing?.id ?? null,
  (movie) => (state.movie = movie),
);
// While this page shares its session or follows one, its pointer goes to the others.
attachPointerSharing(
  canvas,
  (message) => connection.send(message),
  () => Boolean(state.shareLink || connection.join),
  () => state.layout,
);
attachPointer(
  canvas,
  send,
  () => state.window,
  (w) => (state.window = w),
  () => state.layout,
  sliceStepMm,
  () => state.tool,
  ruler,
);
const cycle = (select) => {
  if (select.options.length === 0) return;
  select.selectedIndex = (select.selectedIndex + 1) % select.options.length;
  select.dispatchEvent(new Event("change"));
};
attachKeys(window, send, {
  still: () => connection.send({ type: "still", lossless: true }),
  nextMode: () => cycle($("mode")),
  nextPreset: () => cycle($("preset")),
  toggleLayout: () => setLayout(state.layout === "2x2" ? "1x1" : "2x2"),
});

// The value under the pointer on a slice of the 2×2 layout: asked of the server at most
// every 50 ms while the pointer moves, the latest spot winning (the voxels stay there),
// shown in the status line.
let probeDue = 0;
let probeWanted = null;
let probeTimer = null;
function askProbe() {
  probeTimer = null;
  if (!probeWanted) return;
  probeDue = performance.now() + 50;
  connection.send({ type: "probe", cell: probeWanted.plane, x: probeWanted.x, y: probeWanted.y });
  probeWanted = null;
}
// A finger has no hover: where it touches down (and then moves) is read the same way.
canvas.addEventListener("pointerdown", (event) => {
  if (event.pointerType === "touch") probeAt(event);
});
canvas.addEventListener("pointermove", probeAt);
/** Asks for the value under the pointer of `event`, or forgets it off the slices. */
function probeAt(event) {
  if (state.layout !== "2x2" || !state.opened) return;
  const at = sliceAt(canvas, event.clientX, event.clientY);
  if (!at) {
    state.probe = null;
    probeWanted = null;
    return;
  }
  probeWanted = at;
  const wait = probeDue - performance.now();
  if (wait <= 0) askProbe();
  else if (!probeTimer) probeTimer = setTimeout(askProbe, wait);
}
/** A probe's answer as the status line shows it: the value and where it is. */
function probeText(probe) {
  const where = probe.lps_mm.map((v) => v.toFixed(1)).join(", ");
  const value = probe.value === undefined ? "outside the volume" : `${Math.round(probe.value)}${probe.unit ? ` ${probe.unit}` : ""}`;
  const inSuv = (suv) => (suv === undefined ? "" : ` (SUV ${suv.toFixed(2)})`);
  const drawnOver = probe.over_value === undefined ? "" : `, over ${probe.over_value.toFixed(2)}${inSuv(probe.over_suv)}`;
  return `${probe.cell}: ${value}${inSuv(probe.suv)}${drawnOver} at LPS (${where}) mm`;
}

let resizeTimer = null;
new ResizeObserver(() => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    connection.viewport = viewport();
    send("resize", connection.viewport);
  }, 150);
}).observe(canvas);

let frameTimes = [];
let lastCount = 0;
function render() {
  const now = performance.now();
  state.bytes = state.bytes.filter(([t]) => now - t < 2000);
  const kbit = state.bytes.reduce((sum, [, n]) => sum + n, 0) * 8 / 1000 / 2;
  frameTimes.push([now, state.frames - lastCount]);
  lastCount = state.frames;
  frameTimes = frameTimes.filter(([t]) => now - t < 2000);
  const fps = frameTimes.reduce((sum, [, n]) => sum + n, 0) / 2;
  const latency = connection.medianLatency();
  const header = state.lastHeader;
  const cinematic = state.cinematic?.frameSeq === header?.frameSeq ? state.cinematic : null;
  const quality = !header
    ? "–"
    : header.flags & FLAG_CINEMATIC && cinematic
      ? `cinematic · ${cinematic.paths} of ${cinematic.most} paths a pixel`
      : header.flags & FLAG_LOSSLESS
      ? "lossless"
      : header.flags & FLAG_FINAL
        ? "final"
        : header.flags & FLAG_REFINING
          ? "refining"
          : "interactive";
  // Over WebRTC, the server's estimate of the path's bandwidth (its bitrate keeps under it).
  const path = state.stats?.network_kbps ? `, path ${state.stats.network_kbps} kbit/s` : "";
  const over = state.transport === "webrtc" ? ` over WebRTC${path}` : "";
  // Without WebCodecs the session is JPEG, its frames H.264 only while WebRTC carries them.
  const encoder = state.encoder ? ` (${state.encoder})` : "";
  const codec =
    state.codec === "h264" || state.transport === "webrtc"
      ? `H.264${encoder}${over}`
      : state.codec === "jpeg"
        ? "JPEG"
        : "";
  const parts = [
    state.connection,
    codec,
    `${fps.toFixed(1)} fps`,
    `latency ${latency === null ? "–" : `${latency.toFixed(0)} ms`}`,
    `${kbit.toFixed(0)} kbit/s`,
    quality,
    header ? `${pictureSize(header)}, render ${(header.renderUs / 1000).toFixed(0)} ms` : "",
    `W ${state.window.width.toFixed(0)} L ${state.window.center.toFixed(0)}`,
  ];
  if (state.layout === "2x2" && state.probe) parts.push(probeText(state.probe));
  if (state.layout === "2x2" && state.lastRuler) parts.push(state.lastRuler);
  if (state.saveStatus) parts.push(state.saveStatus);
  if (state.shareLink) parts.push(`shared: ${state.shareLink}`);
  if (state.transportReason) parts.push(`WebRTC off: ${state.transportReason}`);
  if (state.error) parts.push(`last error: ${state.error}`);
  status.textContent = parts.filter(Boolean).join(" · ");
}
setInterval(render, 500);

/** A frame's size as sent, and as shown when it was sent smaller. */
function pictureSize(header) {
  const sent = `${header.width}×${header.height}`;
  return header.width === header.displayWidth && header.height === header.displayHeight
    ? sent
    : `${sent} shown at ${header.displayWidth}×${header.displayHeight}`;
}
// The WebRTC receiver's figures (`getStats`), for the curious and the tests.
setInterval(async () => {
  const stats = await receiver?.videoStats();
  state.rtpStats = stats;
}, 500);
// How decoding keeps up, for the server's H.264 rate control.
setInterval(() => {
  if (state.codec !== "h264") return;
  const latency = connection.medianLatency();
  const report = { type: "stats", decode_queue: player.queue };
  if (latency !== null) report.latency_ms = Math.round(latency);
  connection.send(report);
}, 1000);
// Last: everything the callbacks use is defined by now.
// `?join=ID`: follow a session another user shares instead of opening a series (the
// study browser starts folded away).
connection.join = params.get("join");
if (connection.join) showBrowser(false);
state.offered = await offeredCodecs();
connection.codecs = state.offered;
// WebRTC where this browser can draw its frames (`?transport=websocket` asks for none, and
// `?codec=jpeg` too: WebRTC carries H.264).
connection.transports =
  canUseWebRtc() && params.get("transport") !== "websocket" && params.get("codec") !== "jpeg"
    ? ["webrtc", "websocket"]
    : [];
state.transports = connection.transports;
connection.sideChannel = (message) => state.transport === "webrtc" && receiver?.sendInput(message) === true;
$("logout").addEventListener("click", async () => {
  const ended = await fetch(new URL("logout", location.href), { method: "POST", credentials: "same-origin" });
  // Signed in by the site's provider: signed out there too, which comes back here.
  const answer = ended.status === 200 ? await ended.json().catch(() => ({})) : {};
  if (answer.end_session) {
    location.assign(answer.end_session);
    return;
  }
  showWho(null);
  connection.close();
  await askLogin("logged out");
  connection.connect();
});
await ensureLogin();
connection.connect();
