// A local stand-in for Google Identity Services' client (accounts.google.com/gsi/client):
// the same `google.accounts.id` calls the dashboard makes, answered by the
// local token issuer with a "sign in as" form instead of Google's account
// chooser. The callback gets `{ credential, select_by }` as from Google.
(() => {
  const issuer = new URL(document.currentScript.src).origin;
  let settings;
  const signIn = async (email) => {
    const response = await fetch(`${issuer}/gsi/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, client_id: settings.client_id }),
    });
    if (!response.ok) throw new Error(`the local issuer answered ${response.status}`);
    const { credential } = await response.json();
    settings.callback({ credential, select_by: 'btn' });
  };
  window.google = {
    accounts: {
      id: {
        initialize(options) {
          settings = options;
        },
        renderButton(parent) {
          parent.replaceChildren();
          const form = document.createElement('form');
          form.className = 'gsi-stand-in';
          const label = document.createElement('label');
          label.textContent = 'Sign in as (local) ';
          const input = document.createElement('input');
          input.type = 'email';
          input.name = 'email';
          input.required = true;
          input.autocomplete = 'email';
          input.placeholder = 'you@example.com';
          label.append(input);
          const button = document.createElement('button');
          button.type = 'submit';
          button.textContent = 'Sign in';
          form.append(label, ' ', button);
          form.addEventListener('submit', (event) => {
            event.preventDefault();
            signIn(input.value.trim()).catch((error) => {
              button.textContent = `Sign in (${error.message})`;
            });
          });
          parent.append(form);
        },
        prompt() {
          document.querySelector('.gsi-stand-in input')?.focus();
        },
        disableAutoSelect() {},
        cancel() {},
      },
    },
  };
})();
