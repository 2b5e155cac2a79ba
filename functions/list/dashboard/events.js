// The events view: what Kubernetes reported about one instance, in plain words (the events operation), below the list.
// It reads them when opened and when Refresh is pressed: events come a few a minute at most, so no stream is kept open.

/**
 * Makes the view. `page` gives what app.js shares: `api`, `el` and `showError`.
 */
export function makeEventsView(page) {
  const $ = (id) => document.getElementById(id);
  /** The instance shown, while the view is open. */
  let shown;
  $('events-close').addEventListener('click', () => close());
  $('events-refresh').addEventListener('click', () => void show(shown));

  function close() {
    shown = undefined;
    $('events').hidden = true;
  }

  /** Shows `name`'s events, oldest first, each a line: when, what about, a warning marked, its repeats counted. */
  async function show(name) {
    shown = name;
    $('events-title').textContent = `Events of ${name}`;
    $('events-state').textContent = 'Reading…';
    $('events').hidden = false;
    let events;
    try {
      ({ events } = await page.api('events', { query: { name } }));
    } catch (error) {
      if (shown !== name) return;
      $('events-state').textContent = '';
      if (error.message) page.showError(error.message);
      return;
    }
    // Another instance's were asked for meanwhile.
    if (shown !== name) return;
    $('events-state').textContent = events.length === 0 ? 'Nothing was reported about it in the last hour or so.' : '';
    $('event-list').replaceChildren(...events.map(renderEvent));
  }

  function renderEvent(event) {
    const { el } = page;
    const about = event.about === 'service' ? `service ${event.service ?? ''}` : event.about;
    const repeats =
      event.count > 1 ? `${event.count} times${event.firstTime ? ` since ${new Date(event.firstTime).toLocaleTimeString()}` : ''}` : '';
    return el(
      'li',
      { class: event.warning ? 'event warning' : 'event' },
      el('time', { datetime: event.time, text: new Date(event.time).toLocaleTimeString() }),
      el('span', { class: 'about', text: about }),
      el('span', { class: 'message' }, ...(event.warning ? [el('strong', { text: 'Warning: ' })] : []), event.message),
      ...(repeats ? [el('span', { class: 'repeats', text: repeats })] : []),
    );
  }

  return { show, close };
}
