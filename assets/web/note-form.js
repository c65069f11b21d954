// The small form that asks for a finding's note (an arrow's label) in the page, beside
// where it points: Enter or OK keeps the note typed, Esc drops it.

/** The note form `form` (holding a text input and a submit button). */
export class NoteForm {
  constructor(form) {
    this.form = form;
    this.input = form.querySelector("input");
    this.answer = null;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.finish(this.input.value.trim());
    });
    form.addEventListener("keydown", (event) => {
      // The page's shortcuts stay out of the typing.
      event.stopPropagation();
      if (event.key === "Escape") this.finish(null);
    });
  }

  /** Whether the form is asking now. */
  get asking() {
    return this.answer !== null;
  }

  /**
   * Asks for a note beside (`clientX`, `clientY`), starting from `text`: the note typed, or
   * null when dropped. The form stays inside its container.
   */
  ask(clientX, clientY, text = "") {
    this.finish(null);
    this.input.value = text;
    this.form.hidden = false;
    const box = this.form.parentElement.getBoundingClientRect();
    const [left, top] = [clientX - box.left + 8, clientY - box.top + 8];
    this.form.style.left = `${Math.max(0, Math.min(left, box.width - this.form.offsetWidth))}px`;
    this.form.style.top = `${Math.max(0, Math.min(top, box.height - this.form.offsetHeight))}px`;
    this.input.focus();
    return new Promise((resolve) => {
      this.answer = resolve;
    });
  }

  /** Closes the form with `note` (null: dropped) as its answer. */
  finish(note) {
    const answer = this.answer;
    this.answer = null;
    this.form.hidden = true;
    answer?.(note);
  }
}
