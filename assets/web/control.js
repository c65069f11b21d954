// The controls of a shared session. One participant steers at a time: the host who shared,
// or a follower she handed them to. A follower's page offers "Ask for control" (and "Give
// back" while it steers); the host's page shows who asks, with Grant and Refuse, and "Take
// back" while a follower steers. The server decides who steers (`control`); this page only
// keeps from sending inputs the server would refuse, and says why.

/** What the page knows of the controls, and the buttons that hand them over. */
export class SharedControls {
  /**
   * `elements`: {ask, status, requests} (buttons and spans in the header); `send(message)`
   * sends a protocol message; `hosting()` and `following()` say whether this page shares
   * its session or follows one.
   */
  constructor(elements, send, hosting, following) {
    this.elements = elements;
    this.send = send;
    this.hosting = hosting;
    this.following = following;
    /** The follower steering: {session, name}, or null while the host steers. */
    this.steerer = null;
    /** Whether this page's session is the one steering. */
    this.mine = false;
    /** Whether this follower asked and waits for the host's answer. */
    this.asked = false;
    /** Followers asking this host: {session, name} in the order they asked. */
    this.asking = [];
    elements.ask.addEventListener("click", () => this.askOrGiveBack());
    this.show();
  }

  /** Whether this page may change the view: it steers, or it is in no shared session. */
  maySteer() {
    if (!this.hosting() && !this.following()) return true;
    return this.steerer === null ? this.hosting() : this.mine;
  }

  /** Takes a `control`, `control_requested` or `control_refused` message. */
  take(message, ownSession) {
    if (message.type === "control") {
      this.steerer = message.session === null ? null : { session: message.session, name: message.name };
      this.mine = message.session !== null && message.session === ownSession;
      this.asked = false;
      if (this.steerer) this.asking = this.asking.filter((a) => a.session !== message.session);
    } else if (message.type === "control_requested") {
      if (!this.asking.some((a) => a.session === message.session)) {
        this.asking.push({ session: message.session, name: message.name });
      }
    } else if (message.type === "control_refused") {
      this.asked = false;
      this.refused = true;
    }
    this.show();
  }

  /** A series opened: the shared session this page was in, if any, is over. */
  clear() {
    this.steerer = null;
    this.mine = false;
    this.asked = false;
    this.refused = false;
    this.asking = [];
    this.show();
  }

  /** Answers a follower's request: grants the controls (`grant`) or refuses them. */
  answer(session, grant) {
    this.send({ type: grant ? "grant_control" : "refuse_control", session });
    this.asking = this.asking.filter((a) => a.session !== session);
    this.show();
  }

  askOrGiveBack() {
    // The host takes the controls back; the follower holding them gives them back.
    if ((this.hosting() && this.steerer) || this.mine) {
      this.send({ type: "revoke_control" });
    } else if (!this.asked) {
      this.send({ type: "request_control" });
      this.asked = true;
      this.refused = false;
    }
    this.show();
  }

  /** Who steers, in words, for the status line; null outside a shared session. */
  describe() {
    if (!this.hosting() && !this.following()) return null;
    if (this.mine) return "you steer";
    if (this.steerer) return `${this.steerer.name} steers`;
    return this.hosting() ? "you steer" : "the host steers";
  }

  show() {
    const { ask, status, requests } = this.elements;
    const shared = this.hosting() || this.following();
    ask.hidden = !shared || (this.hosting() && !this.steerer);
    if (this.hosting()) ask.textContent = "Take back control";
    else if (this.mine) ask.textContent = "Give back control";
    else ask.textContent = this.asked ? "Control asked…" : "Ask for control";
    ask.disabled = !this.hosting() && !this.mine && this.asked;
    const told = this.describe();
    status.hidden = told === null;
    status.textContent = this.refused && !this.mine ? `${told} (your request was refused)` : (told ?? "");
    requests.replaceChildren();
    for (const asking of this.hosting() ? this.asking : []) {
      const line = document.createElement("span");
      line.className = "control-request";
      line.dataset.session = String(asking.session);
      line.append(`${asking.name} asks for control `);
      for (const [label, grant] of [["Grant", true], ["Refuse", false]]) {
        const button = document.createElement("button");
        button.textContent = label;
        button.className = grant ? "grant" : "refuse";
        button.addEventListener("click", () => this.answer(asking.session, grant));
        line.append(button);
      }
      requests.append(line);
    }
    requests.hidden = requests.childElementCount === 0;
  }
}

/** Whether an input `action` changes the shared view (what a participant who does not steer may not send). */
export function changesTheView(action) {
  return action !== "interact" && action !== "resize";
}
