// saved-views.js: the store's saved views on the admin page: save the
// current product-table view under a name, show one, publish one to the
// followers (`publish_view` with `name`), delete one. The list follows the
// store's `view.saved` / `view.deleted` events, whoever saved.

import { h, replace, setText, uniqueId } from '../dom.js';
import { failure } from './admin-forms.js';

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @param {ReturnType<typeof import('../api.js').createApi>} api
 */
export function savedViewsControl(client, api) {
  const status = h('p', { class: 'form-status', role: 'status' });
  const list = h('ul', { class: 'saved-views' });
  const nameId = uniqueId('saved-view-name');
  const name = h('input', { id: nameId, maxlength: 60, required: true, autocomplete: 'off' });
  const path = (viewName) => `/stores/${encodeURIComponent(client.state.get().store)}/views/${encodeURIComponent(viewName)}`;

  async function load() {
    const store = client.state.get().store;
    if (!store) return;
    try {
      const views = await api.request('GET', `/stores/${encodeURIComponent(store)}/views`);
      replace(list, ...views.map(item));
    } catch (err) {
      setText(status, failure(err));
    }
  }

  /** @param {{name: string, view: object, saved_by: string}} saved */
  function item(saved) {
    const act = (text, run) => h('button', { type: 'button', text, on: { click: () => run().catch((err) => setText(status, failure(err))) } });
    return h('li', {},
      h('span', { text: `${saved.name} (${saved.saved_by.replace(/^user:/, '')}) ` }),
      act('Show', async () => client.setView(saved.view)),
      act('Publish', async () => {
        client.publishSaved(saved.name);
        setText(status, `Publishing ${saved.name}…`);
      }),
      act('Delete', async () => {
        await api.request('DELETE', path(saved.name));
        setText(status, `Deleted ${saved.name}.`);
      }));
  }

  const form = h('form', { class: 'saved-view-form' },
    h('label', { for: nameId, text: 'Save this view as ' }), name, h('button', { type: 'submit', text: 'Save view' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api.request('PUT', path(name.value), { body: client.state.get().view });
      setText(status, `Saved ${name.value}.`);
      name.value = '';
    } catch (err) {
      setText(status, failure(err));
    }
  });

  let store = null;
  client.addEventListener('change', () => {
    if (client.state.get().store !== store) {
      store = client.state.get().store;
      load();
    }
  });
  client.addEventListener('event', (ev) => {
    if (ev.detail.event.kind === 'view.saved' || ev.detail.event.kind === 'view.deleted') load();
  });
  return h('details', { class: 'saved-views-panel' }, h('summary', { text: 'Saved views' }), list, form, status);
}
