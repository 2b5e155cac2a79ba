// The "Recently destroyed" list: instances whose disks a destroy kept, within
// the allocator's restore window, each with a Restore button and a Delete now
// one. It calls the destroyed list through the page's `api`, restore with its
// progress, and destroy with `now` once confirmed.

/**
 * Makes the list. `page` gives what app.js shares: `api`, `withProgress`,
 * `act`, `confirmAction`, `el`, `setStatus`, `session`, and `onChanged()`,
 * told once an instance is back or gone for good.
 */
export function makeDestroyedList(page) {
  const section = document.getElementById('destroyed-section');
  const list = document.getElementById('destroyed');
  let shown = [];

  /** Reads the list again: the caller's, or everyone's for an admin showing all. */
  async function refresh(all) {
    shown = (await page.api('destroyed', all ? { query: { all: 'true' } } : {})).destroyed;
    list.replaceChildren(...shown.map(renderEntry));
    section.hidden = shown.length === 0;
    updateCountdowns();
  }

  async function restore(name, button) {
    await page.act(async () => {
      page.setStatus('');
      const instance = await page.withProgress('restore', { name }, `Restoring ${name}`);
      page.setStatus(`${instance.name} is ready.`);
      await page.onChanged();
    }, button);
  }

  async function deleteNow(name, button) {
    const sure = await page.confirmAction(
      `Delete ${name} now?`,
      'Delete now deletes the kept disk for good: the instance can no longer be restored.',
      'Delete now',
    );
    if (!sure) return;
    await page.act(async () => {
      page.setStatus(`Deleting ${name}…`);
      await page.api('destroy', { body: { name, now: true } });
      page.setStatus(`${name} is deleted for good.`);
      await page.onChanged();
    }, button);
  }

  function renderEntry(entry) {
    const id = `destroyed-${entry.name}`;
    const button = page.el('button', { type: 'button', 'aria-label': `Restore ${entry.name}`, text: 'Restore' });
    button.addEventListener('click', () => void restore(entry.name, button));
    const deleteButton = page.el('button', { type: 'button', 'aria-label': `Delete now (${entry.name})`, text: 'Delete now' });
    deleteButton.addEventListener('click', () => void deleteNow(entry.name, deleteButton));
    const { el } = page;
    return el(
      'li',
      { class: 'instance destroyed' },
      el(
        'article',
        { 'aria-labelledby': id },
        el('header', {}, el('h3', { id, text: entry.name }), el('span', { class: 'state state-destroyed', text: 'destroyed' })),
        el(
          'dl',
          {},
          el('dt', { text: 'Mount name' }),
          el('dd', {}, el('code', { text: entry.mountName })),
          el('dt', { text: 'Destroyed' }),
          el('dd', {}, el('time', { datetime: entry.destroyedAt, text: new Date(entry.destroyedAt).toLocaleString() })),
          el('dt', { text: 'Restorable' }),
          el('dd', { 'data-restorable-until': entry.restorableUntil }),
          ...(entry.owner !== page.session.email ? [el('dt', { text: 'Owner' }), el('dd', { text: entry.owner })] : []),
        ),
        el('div', { class: 'actions' }, button, deleteButton),
      ),
    );
  }

  function updateCountdowns() {
    for (const node of list.querySelectorAll('[data-restorable-until]')) {
      const at = node.getAttribute('data-restorable-until');
      const seconds = Math.round((Date.parse(at) - Date.now()) / 1000);
      node.textContent = seconds <= 0 ? 'no longer: its disk is being deleted' : `for ${page.formatDuration(seconds)}`;
      node.title = new Date(at).toLocaleString();
    }
  }

  return { refresh, updateCountdowns };
}
