// The study browser: patients → studies → series of the server's library, newest first,
// a page at a time, searched as the user types. Localisers, scouts and single images are
// folded away under a toggle; every series shows its thumbnail and opens on a click or a
// tap. Titles never show a raw UID: a study without a description is "Study of
// 2019-03-04", a series without one "CT series 3".

/** Studies a page shows, unless the page's address says `?per_page=N` (1–200). */
const PER_PAGE = new URLSearchParams(location.search).get("per_page");
export const PAGE_SIZE = Math.min(200, Math.max(1, Number.parseInt(PER_PAGE ?? "", 10) || 20));
/** How long typing must pause before the search is sent (ms). */
const SEARCH_DELAY_MS = 300;
/** How long a thumbnail the server was too busy for waits before it is asked again (ms). */
const THUMBNAIL_RETRY_MS = 1500;

/** "20190304" → "2019-03-04"; anything else as it is. */
export function formatDate(date) {
  return /^\d{8}$/.test(date ?? "") ? `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}` : (date ?? "");
}

/** A study's title: its description, else "Study of DATE", else "Study". */
export function studyTitle(study) {
  const description = study.description?.trim();
  if (description) return description;
  const date = formatDate(study.date);
  return date ? `Study of ${date}` : "Study";
}

/** A series' title: its description, else "MODALITY series NUMBER". */
export function seriesTitle(series) {
  const description = series.description?.trim();
  if (description) return description;
  const modality = series.modality?.trim() || "Unknown";
  return series.number === null || series.number === undefined
    ? `${modality} series`
    : `${modality} series ${series.number}`;
}

/** "DOE JANE · 12345": the name with its parts spaced, then the ID; or "Unnamed patient". */
function patientHeading(study) {
  const parts = [study.patient_name?.replaceAll("^", " ").trim(), study.patient_id?.trim()].filter(Boolean);
  return parts.length ? parts.join(" · ") : "Unnamed patient";
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * The browser in `panel`: `send(message)` sends a `list_studies`, `open(id)` opens a
 * series, `state` (the page's test-visible state) gets `browser`.
 */
export class StudyBrowser {
  constructor(panel, { send, open, state }) {
    this.panel = panel;
    this.send = send;
    this.open = open;
    this.list = panel.querySelector("#study-list");
    this.search = panel.querySelector("#study-search");
    // The fields of the search by field, each sent as the query's key of that name.
    this.fields = {
      patient_name: panel.querySelector("#filter-patient-name"),
      patient_id: panel.querySelector("#filter-patient-id"),
      accession: panel.querySelector("#filter-accession"),
      modality: panel.querySelector("#filter-modality"),
      date_from: panel.querySelector("#filter-date-from"),
      date_to: panel.querySelector("#filter-date-to"),
    };
    this.range = panel.querySelector("#study-range");
    this.prev = panel.querySelector("#study-prev");
    this.next = panel.querySelector("#study-next");
    this.current = null;
    this.view = { text: "", offset: 0, total: 0, shown: 0, series: 0, pending: false };
    state.browser = this.view;
    let timer = null;
    for (const input of [this.search, ...Object.values(this.fields)]) {
      input.addEventListener(input.tagName === "SELECT" || input.type === "date" ? "change" : "input", () => {
        // The reader searches on their own: the link's study no longer narrows it.
        this.studyUid = null;
        clearTimeout(timer);
        timer = setTimeout(() => this.request(0), SEARCH_DELAY_MS);
      });
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          clearTimeout(timer);
          this.request(0);
        }
        // Keys typed here are text, not view shortcuts.
        event.stopPropagation();
      });
    }
    this.prev.addEventListener("click", () => this.request(Math.max(0, this.view.offset - PAGE_SIZE)));
    this.next.addEventListener("click", () => this.request(this.view.offset + PAGE_SIZE));
  }

  /**
   * Narrows the search to what a worklist's link names (`?study=UID`, `?accession=`,
   * `?patient=` ID): the accession and patient ID fill their fields; the study's UID is
   * searched until the reader changes the search.
   */
  linkTo({ study, accession, patient }) {
    if (accession) this.fields.accession.value = accession.slice(0, 128);
    if (patient) this.fields.patient_id.value = patient.slice(0, 128);
    this.studyUid = study ? study.slice(0, 128) : null;
    this.view.linked = Boolean(study || accession || patient);
  }

  /** The query of the search box and the fields: only those filled in (dates as YYYYMMDD). */
  query() {
    const query = {};
    if (this.studyUid) query.study_uid = this.studyUid;
    const text = this.search.value.trim().slice(0, 128);
    if (text) query.text = text;
    for (const [key, input] of Object.entries(this.fields)) {
      let value = input.value.trim().slice(0, 128);
      if (input.type === "date") value = value.replaceAll("-", "");
      if (value) query[key] = value;
    }
    return query;
  }

  /** The `list_studies` message for the page at `offset` of the current search. */
  message(offset = this.view.offset) {
    const message = { type: "list_studies", offset, limit: PAGE_SIZE };
    const query = this.query();
    if (Object.keys(query).length) message.query = query;
    return message;
  }

  /** Asks for the page at `offset` of the current search. */
  request(offset) {
    this.view.pending = true;
    this.send(this.message(offset));
  }

  /** Shows a `studies` reply. */
  show(reply) {
    this.view.pending = false;
    this.view.text = this.search.value.trim();
    this.view.offset = reply.offset ?? 0;
    this.view.total = reply.total ?? reply.studies.length;
    this.view.shown = reply.studies.length;
    this.view.series = reply.studies.reduce((n, study) => n + study.series.length, 0);
    this.list.replaceChildren(...this.patients(reply.studies));
    if (reply.studies.length === 0) {
      const searched = Object.keys(this.query()).length > 0;
      this.list.append(element("p", "empty", searched ? "No study matches the search." : "No studies."));
    }
    const first = this.view.total ? this.view.offset + 1 : 0;
    const last = this.view.offset + reply.studies.length;
    this.range.textContent = `${first}–${last} of ${this.view.total}`;
    this.prev.disabled = this.view.offset === 0;
    this.next.disabled = last >= this.view.total;
    this.mark(this.current);
  }

  /** Studies grouped under their patients (in the order of each patient's newest study). */
  patients(studies) {
    const groups = new Map();
    for (const study of studies) {
      const key = `${study.patient_id}\u0000${study.patient_name}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(study);
    }
    return [...groups.values()].map((group) => {
      const patient = element("section", "patient");
      patient.append(element("h2", null, patientHeading(group[0])));
      patient.append(...group.map((study) => this.study(study)));
      return patient;
    });
  }

  study(study) {
    const node = element("section", "study");
    const heading = element("h3");
    heading.append(element("span", "title", studyTitle(study)));
    const facts = [formatDate(study.date), (study.modalities ?? []).join(" "), study.accession ? `Acc ${study.accession}` : ""];
    heading.append(element("span", "facts", facts.filter(Boolean).join(" · ")));
    node.append(heading);
    const main = study.series.filter((s) => (s.kind ?? "volume") === "volume");
    const other = study.series.filter((s) => (s.kind ?? "volume") !== "volume");
    node.append(...main.map((series) => this.series(series)));
    if (other.length) {
      const fold = element("details", "other");
      const localizers = other.filter((s) => s.kind === "localizer").length;
      const what = localizers === other.length ? (localizers === 1 ? "localiser" : "localisers") : "localisers/other";
      fold.append(element("summary", null, `show ${other.length} ${what}`));
      fold.append(...other.map((series) => this.series(series)));
      // Everything folded away when nothing else is there: show it at once.
      fold.open = main.length === 0;
      node.append(fold);
    }
    return node;
  }

  series(series) {
    const button = element("button", "series");
    button.type = "button";
    button.dataset.series = series.id;
    button.title = series.unavailable ? `Cannot be opened: ${series.unavailable}` : `Open ${seriesTitle(series)}`;
    button.disabled = Boolean(series.unavailable);
    const picture = element("span", "thumb");
    if (series.thumbnail) {
      const img = element("img");
      img.loading = "lazy";
      img.alt = "";
      img.decoding = "async";
      const url = new URL(series.thumbnail.replace(/^\//, ""), location.href).href;
      img.addEventListener("error", () => {
        // Busy (503) or not yet logged in: once more a little later, then no picture.
        if (img.dataset.retried) return img.remove();
        img.dataset.retried = "1";
        setTimeout(() => (img.src = `${url}?retry=1`), THUMBNAIL_RETRY_MS);
      });
      img.src = url;
      picture.append(img);
    }
    button.append(picture);
    const text = element("span", "text");
    const number = series.number === null || series.number === undefined ? "" : `${series.number} · `;
    text.append(element("span", "title", `${number}${seriesTitle(series)}`));
    const size = [
      series.modality,
      `${series.images} ${series.images === 1 ? "image" : "images"}`,
      series.dims ? series.dims.join("×") : "",
      series.unavailable ? "cannot be opened" : "",
    ];
    text.append(element("span", "facts", size.filter(Boolean).join(" · ")));
    button.append(text);
    button.addEventListener("click", () => {
      if (!series.unavailable) this.open(series.id);
    });
    return button;
  }

  /** Marks series `id` as the one open. */
  mark(id) {
    this.current = id;
    for (const button of this.list.querySelectorAll("button.series")) {
      const open = button.dataset.series === id;
      button.classList.toggle("open", open);
      button.setAttribute("aria-current", open ? "true" : "false");
      if (open) {
        const fold = button.closest("details");
        if (fold) fold.open = true;
      }
    }
  }
}
