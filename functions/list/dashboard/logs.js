// The logs view: follows one instance's logs live, below the list (which is redrawn on every refresh).
// The list function ends each stream shortly before its timeout (X-Allocator-Follow-Until says when); the view
// opens it again from the last line's time and skips what it showed, as the CLI does, so each line shows once.

/** The most lines kept on the page: older ones go, so a long follow holds a bounded page. */
const MAX_LINES = 2000;

/** A line's time in nanoseconds since the epoch, from the RFC 3339 time that starts it (the API trims trailing zeros). */
function lineTime(line) {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2}) /.exec(line);
  if (!match) return undefined;
  return BigInt(Date.parse(`${match[1]}${match[3]}`)) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/**
 * @param {{ open: (query: Record<string, string>, signal: AbortSignal) => Promise<Response>, showError: Function }} deps
 */
export function makeLogsView({ open, showError }) {
  const $ = (id) => document.getElementById(id);
  let controller;
  $('logs-close').addEventListener('click', () => close());

  function close() {
    controller?.abort();
    controller = undefined;
    $('logs').hidden = true;
  }

  function append(pre, text) {
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    const line = document.createElement('span');
    line.textContent = `${text}\n`;
    pre.append(line);
    while (pre.childNodes.length > MAX_LINES) pre.firstChild.remove();
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }

  /** Follows `name`'s logs into the view until closed or another instance's are asked for. */
  async function follow(name) {
    controller?.abort();
    const current = new AbortController();
    controller = current;
    const pre = $('log-lines');
    pre.replaceChildren();
    $('logs-title').textContent = `Logs of ${name}`;
    $('logs-state').textContent = 'Following…';
    $('logs').hidden = false;
    // What a resume skips: lines before the last one shown, and as many at its exact time as were shown.
    let last;
    let query = { name, follow: 'true', tailLines: '500' };
    try {
      for (;;) {
        const response = await open(query, current.signal);
        const until = Date.parse(response.headers.get('X-Allocator-Follow-Until') ?? '');
        let skip = last ? last.count : 0;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let pending = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          pending += value;
          const lines = pending.split('\n');
          pending = lines.pop();
          for (const line of lines) {
            const time = lineTime(line);
            if (last && time !== undefined && (time < last.time || (time === last.time && skip > 0))) {
              if (time === last.time) skip -= 1;
              continue;
            }
            if (time !== undefined)
              last = time === last?.time ? { ...last, count: last.count + 1 } : { time, stamp: line.slice(0, line.indexOf(' ')), count: 1 };
            skip = 0;
            append(pre, line.slice(line.indexOf(' ') + 1));
          }
        }
        if (current.signal.aborted) return;
        if (Number.isNaN(until) || Date.now() < until - 1000) {
          $('logs-state').textContent = 'The container stopped: no more lines.';
          return;
        }
        query = last ? { name, follow: 'true', sinceTime: last.stamp } : { name, follow: 'true', tailLines: '0' };
      }
    } catch (error) {
      if (current.signal.aborted) return;
      $('logs-state').textContent = 'Stopped.';
      if (error.message) showError(error.message);
    }
  }

  return { follow, close, showing: () => ($('logs').hidden ? undefined : $('logs-title').textContent) };
}
