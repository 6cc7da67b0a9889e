// views/login.js: the login form. The server answers with an HttpOnly
// cookie, so the page never handles the token.

import { h, uniqueId } from '../dom.js';

/**
 * @param {ReturnType<import('../api.js').createApi>} api
 * @param {(me: any) => void} onLogin called with the login answer (user, stores)
 * @returns {HTMLElement}
 */
export function loginForm(api, onLogin) {
  const userId = uniqueId('login-user');
  const passId = uniqueId('login-pass');
  const error = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit', text: 'Log in' });
  const form = h('form', { class: 'card login', 'aria-labelledby': 'login-title' },
    h('h2', { id: 'login-title', text: 'Log in' }),
    h('label', { for: userId, text: 'User name' }),
    h('input', { id: userId, name: 'username', autocomplete: 'username', required: true }),
    h('label', { for: passId, text: 'Password' }),
    h('input', { id: passId, name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    button, error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    button.disabled = true;
    try {
      const me = await api.login(form.username.value, form.password.value);
      form.password.value = '';
      onLogin(me);
    } catch (err) {
      error.textContent = err.code === 'bad_credentials' ? 'Wrong user name or password.'
        : `Could not log in: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
