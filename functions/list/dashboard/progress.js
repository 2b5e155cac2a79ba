// An operation's progress, as it happens: create, resume, restart and reset
// ask for their progress stream (one JSON line per step, the answer last),
// and the view shows each step with how long it took.

/** Reads NDJSON lines from `body`, each step to `onStep`; answers the last line (the answer or error), or undefined if cut short. */
export async function readProgress(body, onStep) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return undefined;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (!text) continue;
      const line = JSON.parse(text);
      if (typeof line.status === 'number') return line;
      if (typeof line.step === 'string') onStep(line);
    }
  }
}

/** The list of an operation's steps, under the create button: started by `start`, a line per step, closed by `finish`. */
export function makeProgressView() {
  const $ = (id) => document.getElementById(id);
  let last = 0;
  let began = 0;

  function row(text, took) {
    const item = document.createElement('li');
    const words = document.createElement('span');
    words.textContent = text;
    const time = document.createElement('span');
    time.className = 'took';
    time.textContent = `${(took / 1000).toFixed(1)} s`;
    item.append(words, time);
    $('progress-steps').append(item);
  }

  return {
    start(title) {
      $('progress-title').textContent = title;
      $('progress-steps').replaceChildren();
      $('progress').hidden = false;
      began = last = Date.now();
    },
    step(line) {
      const now = Date.now();
      const name = line.name ? `${line.name}: ` : '';
      if (line.step === 'ready') row(`${name}ready`, now - began);
      else row(`${name}${line.message}`, now - last);
      last = now;
    },
    /** Leaves the steps on the page, saying how it ended. */
    finish(text) {
      $('progress-title').textContent = text;
    },
  };
}
