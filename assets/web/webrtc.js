// WebRTC for the interactive frames (docs/protocol.md, "WebRTC"): when the server offers
// it, the page offers a peer that receives H.264 as RTP into a hidden <video> and opens an
// `input` data channel (unordered, no retransmission: the latest input wins). Each frame
// the video presents is drawn into the canvas with the note the server sent for it on the
// data channel (its frame_seq, the input it answers, its size), found by RTP timestamp;
// a frame presented before its note (the channel can run behind the video) waits a moment
// for it, and is drawn without it at the last size known when it does not come.
// The WebSocket stays for everything else, and carries the frames again whenever the
// server says so (`transport`), or when this side gives up.

/** Inputs that go over the data channel while frames come over WebRTC. */
const CONTINUOUS = new Set(["orbit", "pan", "zoom", "window"]);
/** The peer not connected this long after the offer: the page gives up (the server's own
 *  limit is 5 s; this one catches a server that never says). A connected peer may stay
 *  idle: frames go over RTP only while the reader drags. */
const CONNECT_MS = 8000;
/** Notes kept while their frames are on the way. */
const MAX_NOTES = 256;
/** How long a presented frame waits for a note still on the way before it is drawn
 *  without one. */
const NOTE_WAIT_MS = 250;

/** Whether this browser can receive the frames over WebRTC and draw each with its note
 *  (WebCodecs not needed: outside a secure context the video element itself is drawn). */
export function canUseWebRtc() {
  return (
    typeof RTCPeerConnection !== "undefined" &&
    typeof RTCRtpReceiver !== "undefined" &&
    typeof HTMLVideoElement !== "undefined" &&
    "requestVideoFrameCallback" in HTMLVideoElement.prototype
  );
}

/** H.264 constrained baseline with packetization-mode 1, as the server sends it. */
function constrainedBaseline() {
  const codecs = RTCRtpReceiver.getCapabilities("video")?.codecs ?? [];
  return codecs.filter(
    (codec) =>
      codec.mimeType.toLowerCase() === "video/h264" &&
      /profile-level-id=42e01f/i.test(codec.sdpFmtpLine ?? "") &&
      /packetization-mode=1/.test(codec.sdpFmtpLine ?? ""),
  );
}

/**
 * One WebRTC peer of a session. `send(message)` writes to the WebSocket;
 * `onFrame(header, picture)` gets each presented picture (a VideoFrame, or the video
 * element without WebCodecs) with a frame header made from its note (the callee closes it); `onClosed(reason)` says when the page gave up.
 */
export class WebRtcReceiver {
  constructor({ video, send, onFrame, onClosed }) {
    this.video = video;
    this.send = send;
    this.onFrame = onFrame;
    this.onClosed = onClosed;
    this.pc = null;
    this.channel = null;
    this.notes = new Map();
    this.lastNote = null;
    /** A presented frame whose note has not come yet: { rtp, picture, timer }. */
    this.waiting = null;
    /** Frames the video presented, notes that came, and notes that came after their
     *  frame (for the curious and the tests: `window.hounsfield.rtpStats`). */
    this.presented = 0;
    this.notesTaken = 0;
    this.lateNotes = 0;
    this.pictureErrors = 0;
    this.pictureError = null;
    this.timer = null;
    this.closed = false;
  }

  /** Makes the peer and sends its offer. */
  async start() {
    const h264 = constrainedBaseline();
    if (h264.length === 0) throw new Error("this browser's WebRTC has no H.264 constrained baseline");
    const pc = new RTCPeerConnection();
    this.pc = pc;
    const transceiver = pc.addTransceiver("video", { direction: "recvonly" });
    transceiver.setCodecPreferences(h264);
    this.channel = pc.createDataChannel("input", { ordered: false, maxRetransmits: 0 });
    this.channel.onmessage = (event) => this.takeNote(event.data);
    pc.ontrack = (event) => {
      // Show each frame as soon as it is decoded: no jitter buffer to speak of.
      if ("jitterBufferTarget" in event.receiver) event.receiver.jitterBufferTarget = 0;
      this.video.srcObject = new MediaStream([event.track]);
      this.video.play().catch(() => {});
      this.watch();
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "failed") this.giveUp("the WebRTC connection failed");
    };
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.send({ type: "webrtc_offer", sdp: pc.localDescription.sdp });
    this.timer = setTimeout(() => {
      if (pc.connectionState !== "connected") {
        this.giveUp(`WebRTC did not connect in ${CONNECT_MS / 1000} s`);
      }
    }, CONNECT_MS);
  }

  /** The server's answer. */
  async answer(sdp) {
    if (this.pc && !this.closed) await this.pc.setRemoteDescription({ type: "answer", sdp });
  }

  /** Sends `message` (an input) on the data channel when it belongs there; whether it did. */
  sendInput(message) {
    if (!CONTINUOUS.has(message.action) || this.channel?.readyState !== "open") return false;
    this.channel.send(JSON.stringify(message));
    return true;
  }

  /** The server's inbound video figures (`getStats`) with what this page did with them
   *  (frames presented, notes taken, the input channel's and the video's state), or null. */
  async videoStats() {
    if (!this.pc) return null;
    const stats = await this.pc.getStats();
    for (const report of stats.values()) {
      if (report.type === "inbound-rtp" && report.kind === "video") {
        return {
          framesReceived: report.framesReceived ?? 0,
          framesDecoded: report.framesDecoded ?? 0,
          keyFramesDecoded: report.keyFramesDecoded ?? 0,
          packetsLost: report.packetsLost ?? 0,
          pliCount: report.pliCount ?? 0,
          presented: this.presented,
          notes: this.notesTaken,
          lateNotes: this.lateNotes,
          pictureErrors: this.pictureErrors,
          pictureError: this.pictureError,
          channel: this.channel?.readyState ?? "none",
          videoPaused: this.video.paused,
          lastRtp: this.lastRtp ?? null,
          lastNoteRtp: this.lastNoteRtp ?? null,
        };
      }
    }
    return null;
  }

  /** Ends the peer (the session ended, or the server moved the frames back). */
  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.waiting) this.waiting.picture.close?.();
    this.forget();
    if (this.pc) this.pc.close();
    this.pc = null;
    this.channel = null;
    this.video.srcObject = null;
  }

  giveUp(reason) {
    if (this.closed) return;
    this.send({ type: "webrtc_close", reason });
    this.close();
    this.onClosed(reason);
  }

  takeNote(text) {
    let note;
    try {
      note = JSON.parse(text);
    } catch {
      return;
    }
    if (note?.type !== "frame") return;
    this.notesTaken += 1;
    this.lastNoteRtp = note.rtp;
    this.lastNote = note;
    if (this.waiting?.rtp === note.rtp) {
      // Its frame was presented first (the channel ran behind the video): drawn now, named.
      const { picture } = this.waiting;
      this.forget();
      this.lateNotes += 1;
      this.show(note, true, picture);
      return;
    }
    this.notes.set(note.rtp, note);
    if (this.notes.size > MAX_NOTES) this.notes.delete(this.notes.keys().next().value);
  }

  /** Draws `picture` with the header of `note` (`named`: its own note). */
  show(note, named, picture) {
    this.onFrame(header(note, named), picture);
  }

  /** Draws the frame waiting for its note with the last note known (its size), or lets it
   *  go when none is known yet. */
  flushWaiting() {
    if (!this.waiting) return;
    const { picture } = this.waiting;
    this.forget();
    if (this.lastNote) this.show(this.lastNote, false, picture);
    else picture.close?.();
  }

  forget() {
    clearTimeout(this.waiting?.timer);
    this.waiting = null;
  }

  /** The picture the video presents now: a VideoFrame where WebCodecs is, else the video
   *  element itself (drawable as it is, with nothing to close); null when the browser
   *  cannot take it (counted in `pictureErrors`, the last reason kept). */
  picture(metadata) {
    if (typeof VideoFrame === "undefined") return this.video;
    try {
      return new VideoFrame(this.video, { timestamp: Math.round(metadata.mediaTime * 1e6) });
    } catch (error) {
      this.pictureErrors += 1;
      this.pictureError = String(error?.message ?? error);
      return null;
    }
  }

  /** Draws every frame the video presents, named by its note. */
  watch() {
    if (this.closed) return;
    this.video.requestVideoFrameCallback((_, metadata) => {
      if (this.closed) return;
      // The next presentation is asked for first: nothing below can end the chain (a
      // frame the browser would not hand over once stopped every frame after it).
      this.watch();
      this.presented += 1;
      this.lastRtp = metadata.rtpTimestamp;
      // The frame before, still without its note, is drawn as it is: this one is newer.
      this.flushWaiting();
      const picture = this.picture(metadata);
      if (!picture) return;
      const rtp = metadata.rtpTimestamp;
      const note = this.notes.get(rtp);
      if (note) {
        this.notes.delete(rtp);
        this.show(note, true, picture);
      } else {
        // Its note may be on the way (the data channel can run behind the video): it waits
        // a moment, then is drawn at the size of the last note known (or let go).
        const waiting = { rtp, picture, timer: null };
        waiting.timer = setTimeout(() => {
          if (this.waiting === waiting) this.flushWaiting();
        }, NOTE_WAIT_MS);
        this.waiting = waiting;
      }
    });
  }
}

/** A frame header (as protocol.js reads them) from a frame's note. */
function header(note, named) {
  return {
    codec: 3,
    flags: note.keyframe ? 1 : 0,
    frameSeq: note.frame_seq,
    inputSeq: note.input_seq,
    width: note.width,
    height: note.height,
    renderUs: 0,
    encodeUs: 0,
    displayWidth: note.display_width,
    displayHeight: note.display_height,
    overRtp: true,
    named,
  };
}
