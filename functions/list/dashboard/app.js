// Allocator's dashboard: signs in with Google Identity Services and calls the
// three functions' JSON APIs with the ID token it gets. It keeps the token in
// memory only: no cookie, no storage, no server session.

import { makeDestroyedList } from './destroyed.js';
import { makeEventsView } from './events.js';
import { makeLogsView } from './logs.js';
import { makeProgressView, readProgress } from './progress.js';

const $ = (id) => document.getElementById(id);

const session = { token: undefined, expiresAt: 0, email: '', admin: false };
let config;
let instances = [];
/** What create takes: [{name, description, default, enum | pattern and maxLength}], from /openapi.json. */
let parameters = [];
/** The open watch of the person's instances: what it shows (all, for an admin) and how to stop it. */
let watcher;
/** Recently destroyed instances, with Restore (destroyed.js). */
let destroyedList;
/** One instance's logs, followed live (logs.js). */
let logsView;
/** The steps of the create, resume, restart, reset or restore under way (progress.js). */
let progressView;
/** One instance's events, in plain words (events.js). */
let eventsView;

async function main() {
  config = await (await fetch('config.json')).json();
  await loadScript(config.signInScript);
  google.accounts.id.initialize({ client_id: config.clientId, callback: onCredential, auto_select: true, cancel_on_tap_outside: false });
  google.accounts.id.renderButton($('sign-in-button'), { type: 'standard', theme: 'outline', size: 'large', text: 'signin_with' });
  $('sign-out').addEventListener('click', signOut);
  $('create-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void act(createInstance, $('create'));
  });
  $('show-all').addEventListener('change', () => void refresh());
  destroyedList = makeDestroyedList({ api, withProgress, act, confirmAction, el, setStatus, session, formatDuration, onChanged: refresh });
  logsView = makeLogsView({ open: openLogs, showError });
  progressView = makeProgressView();
  eventsView = makeEventsView({ api, el, showError });
  setInterval(updateCountdowns, 1000);
  // Without the description the page still works: a create then gets every parameter's default.
  const described = loadParameters().catch(
    (error) => `The allocator's parameters could not be read (${error.message}); a create gets their defaults.`,
  );
  $('loading').hidden = true;
  showSignIn('Sign in with your Google account to see and manage your test instances.');
  const problem = await described;
  if (problem) showError(problem);
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.async = true;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`cannot load the sign-in script from ${src}`));
    document.head.append(script);
  });
}

function onCredential({ credential }) {
  const claims = JSON.parse(atob(credential.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  Object.assign(session, { token: credential, expiresAt: claims.exp * 1000, email: claims.email });
  $('who').textContent = claims.email;
  $('account').hidden = false;
  $('sign-in').hidden = true;
  $('app').hidden = false;
  showError('');
  void checkAdmin().then(refresh);
}

function signOut() {
  google.accounts.id.disableAutoSelect();
  Object.assign(session, { token: undefined, expiresAt: 0, email: '', admin: false });
  showSignIn('You are signed out.');
}

function showSignIn(why) {
  watcher?.abort.abort();
  watcher = undefined;
  $('account').hidden = true;
  $('app').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-why').textContent = why;
  google.accounts.id.prompt();
}

/** An answer's error in words, with what decides whether to send again: its status, code and Retry-After. */
class ApiError extends Error {
  constructor(message, { status, code, retryAfterSeconds } = {}) {
    super(message);
    Object.assign(this, { status, code, retryAfterSeconds });
  }
}

/**
 * How long an action waits out another operation on its instance (a 409
 * ABORTED with Retry-After, such as a suspend still writing its end) before
 * it shows the 409, as the typed client does: the list may show an
 * instance's new state a moment before the operation that made it is over.
 */
const BUSY_WAIT_MS = 60_000;

/** Runs `call` again, after the wait its answer asks for, while the allocator says another operation holds the instance. */
async function waitingOutBusy(call) {
  const deadline = Date.now() + BUSY_WAIT_MS;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      const waitMs = (error.retryAfterSeconds ?? Number.NaN) * 1000;
      const busy = error instanceof ApiError && error.status === 409 && error.code === 'ABORTED';
      if (!busy || !(waitMs >= 0) || Date.now() + waitMs > deadline) throw error;
      setStatus(`${error.message} Trying again in ${error.retryAfterSeconds} s…`);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/**
 * Sends one operation, by its id in the allocator's table of operations:
 * config.json gives each one's URL and method. Sent with the signed-in
 * person's token; an expired token asks them to sign in again.
 */
async function send(operation, { body, query, accept, signal } = {}) {
  const { url, method } = config.operations[operation];
  if (!session.token || Date.now() > session.expiresAt - 30_000) {
    showSignIn('Your sign-in has expired; sign in again to go on.');
    throw new ApiError('');
  }
  return await fetch(`${url}${query ? `?${new URLSearchParams(query)}` : ''}`, {
    method,
    headers: {
      authorization: `Bearer ${session.token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(accept ? { accept } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
    ...(signal ? { signal } : {}),
  });
}

/** One operation's JSON answer, or its error thrown in words. */
async function api(operation, options) {
  return await waitingOutBusy(async () => {
    const response = await send(operation, options);
    return answerOf(response.status, await response.json().catch(() => ({})), retryAfterOf(response));
  });
}

function retryAfterOf(response) {
  const seconds = Number(response.headers.get('retry-after') ?? Number.NaN);
  return Number.isFinite(seconds) ? seconds : undefined;
}

/** An answer's body, or its error thrown in words (a refused sign-in asks for another). */
function answerOf(status, answer, retryAfterSeconds) {
  if (status === 401) {
    showSignIn('Your sign-in was not accepted; sign in again.');
    throw new ApiError('');
  }
  if (status < 200 || status >= 300)
    throw new ApiError(describeError(status, answer.error), { status, code: answer.error?.status, retryAfterSeconds });
  return answer;
}

/**
 * Runs an operation that brings an instance up (create, resume, restart,
 * reset, restore) with its progress stream: each step shows as it happens, under
 * `title`, and the answer is the stream's last line.
 */
async function withProgress(operation, body, title) {
  return await waitingOutBusy(async () => {
    const response = await send(operation, { body, accept: PROGRESS_TYPE });
    // Refused before it began (a bad request, a sign-in): a plain JSON error.
    if (!response.headers.get('content-type')?.startsWith(PROGRESS_TYPE)) {
      return answerOf(response.status, await response.json().catch(() => ({})), retryAfterOf(response));
    }
    progressView.start(title);
    const last = await readProgress(response.body, (line) => progressView.step(line));
    if (!last) {
      progressView.finish(`${title}: the connection ended before the allocator answered`);
      throw new ApiError('The connection to the allocator ended before it answered; the list shows where things stand.');
    }
    progressView.finish(last.answer ? `${title}: done` : `${title}: failed`);
    return answerOf(last.status, last.answer ?? { error: last.error }, last.retryAfterSeconds);
  });
}

const PROGRESS_TYPE = 'application/x-ndjson';

/** Opens the logs operation's stream; its errors are read as any operation's. */
async function openLogs(query, signal) {
  return await openStream('logs', query, signal);
}

/** Opens a streamed operation (logs, watch): its answer's body, or its error read as any operation's. */
async function openStream(operation, query, signal) {
  const response = await send(operation, { query, signal });
  if (!response.ok) answerOf(response.status, await response.json().catch(() => ({})));
  return response;
}

function describeError(status, error) {
  const message = error?.message ?? `the allocator answered ${status}`;
  if (status === 429) return `Limit reached: ${message}`;
  if (status === 403) return `Not allowed: ${message}`;
  if (status === 404) return `Not found: ${message}`;
  if (status === 409) return `Busy: ${message}`;
  return message;
}

/** Runs one user action with its button disabled, showing any error. */
async function act(action, button) {
  showError('');
  if (button) button.disabled = true;
  try {
    await action();
  } catch (error) {
    if (error.message) showError(error.message);
  } finally {
    if (button) button.disabled = false;
  }
}

async function checkAdmin() {
  try {
    await api('list', { query: { all: 'true' } });
    session.admin = true;
  } catch {
    session.admin = false;
  }
  $('all-toggle').hidden = !session.admin;
}

async function refresh() {
  const all = session.admin && $('show-all').checked;
  try {
    const [listed] = await Promise.all([api('list', all ? { query: { all: 'true' } } : {}), destroyedList.refresh(all)]);
    instances = listed.instances;
  } catch (error) {
    if (error.message) showError(error.message);
    return;
  }
  $('instances-title').textContent = all ? 'All instances' : 'Your instances';
  render();
  watch(all);
}

/**
 * Follows the list function's /watch: each change to the person's instances
 * arrives as an event and is drawn at once, so the page sends nothing while
 * nothing changes. The stream ends at the function's timeout and is opened
 * again from the last event's id, missing nothing.
 */
function watch(all) {
  if (watcher?.all === all) return;
  watcher?.abort.abort();
  const abort = new AbortController();
  watcher = { all, abort };
  void (async () => {
    let since;
    while (!abort.signal.aborted) {
      try {
        const query = { ...(all ? { all: 'true' } : {}), ...(since ? { since } : {}) };
        const response = await openStream('watch', query, abort.signal);
        // Events of a watch replaced meanwhile (the admin's toggle) are not this page's any more.
        since = await readEvents(response.body, (event) => watcher?.abort === abort && applyEvent(event), since);
      } catch (error) {
        if (abort.signal.aborted) return;
        if (error instanceof ApiError && !error.message) return; // signed out: the sign-in asks again
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    }
  })();
}

/** Reads server-sent events from `body`, calling `each` for each; answers the last id seen. */
async function readEvents(body, each, lastId) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let id = lastId;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return id;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = { type: 'message', data: '' };
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event.type = text;
        else if (field === 'data') event.data += text;
        else if (field === 'id') id = text;
      }
      if (event.data) each(event);
    }
  }
}

/** One watch event: an instance as list shows it, one gone, or the names of all once the stream is in step. */
function applyEvent(event) {
  const data = JSON.parse(event.data);
  // Drawn again only when something changed: a redraw replaces the cards, and with them what a person is typing.
  const before = JSON.stringify(instances);
  if (event.type === 'instance') {
    const at = instances.findIndex((instance) => instance.name === data.name);
    if (at >= 0) instances[at] = data;
    else instances = [data, ...instances];
  } else if (event.type === 'deleted') {
    instances = instances.filter((instance) => instance.name !== data.name);
  } else if (event.type === 'synced' && Array.isArray(data.names)) {
    instances = instances.filter((instance) => data.names.includes(instance.name));
  } else return;
  if (JSON.stringify(instances) === before) return;
  render();
}

/**
 * The parameters create takes, as the allocator's /openapi.json (list's, no
 * token needed) describes them under create's `parameters`: one field each,
 * a choice for an enum, text up to its maxLength for a pattern, at its default.
 */
async function loadParameters() {
  const response = await fetch(`${config.operations.list.url}/openapi.json`);
  if (!response.ok) throw new Error(`the allocator's description answered ${response.status}`);
  const document = await response.json();
  const create = Object.values(document.paths)
    .flatMap((item) => Object.values(item))
    .find((operation) => operation.operationId === 'create');
  const declared = create?.requestBody?.content?.['application/json']?.schema?.properties?.parameters?.properties ?? {};
  parameters = Object.entries(declared).map(([name, schema]) => ({ name, ...schema }));
  $('parameter-fields').replaceChildren(...parameters.map(parameterField));
  $('parameters').hidden = parameters.length === 0;
}

function parameterField(parameter) {
  const id = `parameter-${parameter.name}`;
  const hint = el('small', {
    id: `${id}-hint`,
    text: `${parameter.description} ${parameter.enum ? '' : `(${parameter.pattern}, at most ${parameter.maxLength} characters)`}`.trim(),
  });
  const input = parameter.enum
    ? el('select', { id, name: parameter.name }, ...parameter.enum.map((value) => el('option', { value, text: value })))
    : el('input', {
        id,
        name: parameter.name,
        type: 'text',
        maxlength: String(parameter.maxLength),
        spellcheck: 'false',
        autocomplete: 'off',
      });
  input.value = parameter.default;
  input.setAttribute('aria-describedby', hint.id);
  return el('div', { class: 'parameter' }, el('label', { for: id, text: parameter.name }), input, hint);
}

async function createInstance() {
  setStatus('');
  const chosen = Object.fromEntries(parameters.map(({ name }) => [name, $(`parameter-${name}`).value]));
  const instance = await withProgress('create', parameters.length > 0 ? { parameters: chosen } : {}, 'Creating an instance');
  setStatus(`${instance.name} is ready.`);
}

const ACTIONS = {
  extend: {
    label: 'Extend',
    doing: 'Extending',
    run: (name) => api('extend', { body: { name } }),
    done: (i) => `${i.name} now expires ${i.expiresAt ? new Date(i.expiresAt).toLocaleString() : 'never'}.`,
  },
  suspend: {
    label: 'Suspend',
    doing: 'Suspending',
    run: (name) => api('suspend', { body: { name } }),
    done: (i) => `${i.name} is suspended.`,
  },
  resume: {
    label: 'Resume',
    doing: 'Resuming',
    run: (name) => withProgress('resume', { name }, `Resuming ${name}`),
    done: (i) => `${i.name} is ready.`,
  },
  restart: {
    label: 'Restart',
    doing: 'Restarting',
    run: (name) => withProgress('restart', { name }, `Restarting ${name}`),
    done: (i) => `${i.name} is ready.`,
  },
  reset: {
    label: 'Reset',
    doing: 'Resetting',
    confirm: 'Reset wipes the instance\u2019s disk and starts it again. Its name and mount name stay.',
    run: (name) => withProgress('reset', { name }, `Resetting ${name}`),
    done: (i) => `${i.name} is ready.`,
  },
  destroy: {
    label: 'Destroy',
    doing: 'Destroying',
    confirm: 'Destroy removes the instance. Its disk goes too, unless the allocator keeps it for a while so that it can be restored.',
    run: (name) => api('destroy', { body: { name } }),
    done: (i) =>
      i.restorableUntil
        ? `${i.name} is destroyed; it can be restored until ${new Date(i.restorableUntil).toLocaleString()}.`
        : `${i.name} is destroyed.`,
  },
};

async function runAction(kind, name, button) {
  const action = ACTIONS[kind];
  if (action.confirm && !(await confirmAction(`${action.label} ${name}?`, action.confirm, action.label))) return;
  await act(async () => {
    setStatus(`${action.doing} ${name}…`);
    const answer = await action.run(name);
    setStatus(action.done({ name, ...answer }));
    await refresh();
  }, button);
}

function confirmAction(title, text, label) {
  const dialog = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = label;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
}

function render() {
  const list = $('instances');
  list.replaceChildren(...instances.map(renderInstance));
  $('empty').hidden = instances.length > 0;
  updateCountdowns();
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

/** A button that copies `text`, named for screen readers by `what`, saying in the status line how it went. */
function copyButton(text, what) {
  const copy = el('button', { type: 'button', 'aria-label': `Copy ${what}`, text: 'Copy' });
  copy.addEventListener(
    'click',
    () =>
      void navigator.clipboard.writeText(text).then(
        () => setStatus(`Copied ${text}.`),
        () => setStatus(`Copy failed; it is ${text}.`),
      ),
  );
  return copy;
}

/** The card's endpoints, one per Service port: `host:port`, with the internal load balancer's address once it has one. */
function renderEndpoints(instance) {
  const endpoints = instance.endpoints ?? [];
  if (endpoints.length === 0) return [];
  const item = (endpoint) => {
    const address = `${endpoint.host}:${endpoint.port}`;
    const balancer = endpoint.loadBalancer ? `${endpoint.loadBalancer.host}:${endpoint.loadBalancer.port}` : undefined;
    return el(
      'li',
      {},
      `${endpoint.name} (${endpoint.protocol}) `,
      el('code', { text: address }),
      ' ',
      copyButton(address, `the endpoint ${endpoint.name} of ${instance.name}`),
      ...(balancer
        ? [
            ' from the VPC ',
            el('code', { text: balancer }),
            ' ',
            copyButton(balancer, `the VPC address of ${endpoint.name} of ${instance.name}`),
          ]
        : []),
    );
  };
  return [
    el('dt', { text: 'Endpoints' }),
    el('dd', {}, el('ul', { class: 'endpoints', 'aria-label': `Endpoints of ${instance.name}` }, ...endpoints.map(item))),
  ];
}

function renderInstance(instance) {
  const id = `instance-${instance.name}`;
  const mount = el('code', { text: instance.mountName });
  const copy = copyButton(instance.mountName, `the mount name of ${instance.name}`);
  const details = el(
    'dl',
    {},
    el('dt', { text: 'Mount name' }),
    el('dd', {}, mount, ' ', copy),
    ...renderEndpoints(instance),
    el('dt', { text: 'Created' }),
    el('dd', {}, el('time', { datetime: instance.creationTime, text: new Date(instance.creationTime).toLocaleString() })),
    el('dt', { text: 'Expires' }),
    el('dd', { 'data-expires': instance.expiresAt ?? '' }),
    ...(instance.owner !== session.email
      ? [el('dt', { text: 'Owner' }), el('dd', { text: instance.sharedWithMe ? `${instance.owner} (shared with you)` : instance.owner })]
      : []),
    ...(Object.keys(instance.parameters ?? {}).length > 0
      ? [
          el('dt', { text: 'Parameters' }),
          el(
            'dd',
            {},
            el(
              'ul',
              { class: 'parameters', 'aria-label': `Parameters of ${instance.name}` },
              ...Object.entries(instance.parameters).map(([name, value]) => el('li', {}, el('code', { text: `${name}=${value}` }))),
            ),
          ),
        ]
      : []),
    ...renderSharing(instance),
  );
  const problems = el(
    'ul',
    { class: 'problems', 'aria-label': `Problems of ${instance.name}` },
    ...instance.problems.map((p) => el('li', {}, el('strong', { text: p.reason }), `: ${p.message}`)),
  );
  // Suspend and resume are one toggle; each button shows only if the server's table lets this person run it now.
  const kinds = ['extend', instance.state === 'suspended' ? 'resume' : 'suspend', 'restart', 'reset', 'destroy'].filter((kind) =>
    may(instance, kind),
  );
  const buttons = kinds.map((kind) => {
    const button = el('button', {
      type: 'button',
      class: kind === 'destroy' ? 'danger' : '',
      'aria-label': `${ACTIONS[kind].label} ${instance.name}`,
      text: ACTIONS[kind].label,
    });
    button.addEventListener('click', () => void runAction(kind, instance.name, button));
    return button;
  });
  return el(
    'li',
    { class: 'instance' },
    el(
      'article',
      { 'aria-labelledby': id },
      el('header', {}, el('h3', { id, text: instance.name }), el('span', { class: `state state-${instance.state}`, text: instance.state })),
      details,
      ...(instance.problems.length > 0 ? [problems] : []),
      el(
        'div',
        { class: 'actions' },
        ...buttons,
        ...(may(instance, 'transfer') ? [transferButton(instance)] : []),
        logsButton(instance),
        eventsButton(instance),
      ),
    ),
  );
}

/** Everyone who sees an instance may read its logs: the view below the list follows them. */
function logsButton(instance) {
  const button = el('button', { type: 'button', 'aria-label': `Logs of ${instance.name}`, text: 'Logs' });
  button.addEventListener('click', () => {
    showError('');
    void logsView.follow(instance.name);
    $('logs').scrollIntoView({ block: 'nearest' });
  });
  return button;
}

/** Everyone who sees an instance may read its events: the view below the list shows them. */
function eventsButton(instance) {
  const button = el('button', { type: 'button', 'aria-label': `Events of ${instance.name}`, text: 'Events' });
  button.addEventListener('click', () => {
    showError('');
    void eventsView.show(instance.name);
    $('events').scrollIntoView({ block: 'nearest' });
  });
  return button;
}

// Sharing and transfer: "Shared with", with add and remove, and "Transfer to…", for the owner and admins.

/** Whether the signed-in person may run `kind` on the instance now: list answers this from the table of transitions. */
function may(instance, kind) {
  return (instance.operations ?? []).includes(kind);
}

function renderSharing(instance) {
  const collaborators = instance.collaborators ?? [];
  if (!may(instance, 'share')) return [];
  const people = el(
    'ul',
    { class: 'collaborators', 'aria-label': `Shared with, ${instance.name}` },
    ...collaborators.map((email) => {
      const remove = el('button', { type: 'button', 'aria-label': `Remove ${email} from ${instance.name}`, text: 'Remove' });
      remove.addEventListener('click', () => void changeSharing('unshare', instance.name, email, remove));
      return el('li', {}, el('span', { text: email }), ' ', remove);
    }),
  );
  const inputId = `share-${instance.name}`;
  const input = el('input', { id: inputId, type: 'email', autocomplete: 'off', placeholder: 'email' });
  const add = el('button', { type: 'submit', text: 'Share' });
  const form = el('form', { class: 'share' }, el('label', { for: inputId, text: `Share ${instance.name} with` }), input, add);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const email = input.value.trim();
    if (email) void changeSharing('share', instance.name, email, add);
  });
  return [el('dt', { text: 'Shared with' }), el('dd', {}, collaborators.length ? people : el('span', { text: 'nobody' }), form)];
}

async function changeSharing(operation, name, email, button) {
  await act(async () => {
    setStatus(`${operation === 'share' ? 'Sharing' : 'Unsharing'} ${name}…`);
    const instance = await api(operation, { body: { name, emails: [email] } });
    const who = instance.collaborators?.length ? instance.collaborators.join(', ') : 'nobody';
    setStatus(`${name} is shared with ${who}; its pod restarts with the new access list, its disk stays.`);
    await refresh();
  }, button);
}

function transferButton(instance) {
  const button = el('button', { type: 'button', 'aria-label': `Transfer to… (${instance.name})`, text: 'Transfer to…' });
  button.addEventListener('click', () => void transfer(instance.name, button));
  return button;
}

async function transfer(name, button) {
  const dialog = $('transfer');
  $('transfer-title').textContent = `Transfer ${name}`;
  $('transfer-to').value = '';
  dialog.returnValue = '';
  dialog.showModal();
  await new Promise((resolve) => dialog.addEventListener('close', resolve, { once: true }));
  const to = $('transfer-to').value.trim();
  if (dialog.returnValue !== 'ok' || !to) return;
  await act(async () => {
    setStatus(`Transferring ${name} to ${to}…`);
    const instance = await api('transfer', { body: { name, to } });
    setStatus(`${name} now belongs to ${instance.owner}.`);
    await refresh();
  }, button);
}

function updateCountdowns() {
  destroyedList?.updateCountdowns();
  for (const node of document.querySelectorAll('[data-expires]')) {
    const at = node.getAttribute('data-expires');
    if (!at) {
      node.textContent = 'never';
      continue;
    }
    const seconds = Math.round((Date.parse(at) - Date.now()) / 1000);
    node.textContent = seconds <= 0 ? 'expired; the next sweep destroys it' : `in ${formatDuration(seconds)}`;
    node.title = new Date(at).toLocaleString();
  }
}

function formatDuration(seconds) {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(s).padStart(2, '0')}s`;
}

function setStatus(text) {
  $('status').textContent = text;
}

function showError(text) {
  $('error').textContent = text;
  $('error').hidden = text === '';
}

main().catch((error) => {
  $('loading').hidden = true;
  showError(`The dashboard could not start: ${error.message}`);
});
