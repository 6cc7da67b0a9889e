// views/manage-stores.js: the stores panel of /manage (global admins):
// every store with its name, time zone and visibility editable, archive /
// restore, export and delete (archived stores only), and the form that
// creates a store. Errors show the server's message (stable codes such as
// `currency_locked` or `store_archived` come with a sentence).

import { h, uniqueId } from '../dom.js';

/** IANA time zones the browser knows, for the time-zone fields. */
const ZONES = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];

/** @param {string} id @returns {HTMLDataListElement} */
function zoneList(id) {
  return /** @type {any} */ (h('datalist', { id }, ...ZONES.map((z) => h('option', { value: z }))));
}

/** A labelled input. */
function field(label, attrs) {
  const id = uniqueId('store-field');
  return [h('label', { for: id, text: label }), h('input', { id, ...attrs })];
}

/**
 * @param {import('../manage.js').ManageContext} ctx
 * @returns {{el: HTMLElement, load: () => Promise<void>}}
 */
export function storesPanel(ctx) {
  const zonesId = uniqueId('zones');
  const rows = h('tbody');
  const table = h('table', { class: 'products manage' },
    h('caption', { class: 'visually-hidden', text: 'Stores' }),
    h('thead', {}, h('tr', {}, ...['Slug', 'Name', 'Currency', 'Time zone', 'Public', 'State', 'Actions']
      .map((t) => h('th', { scope: 'col', text: t })))),
    rows);

  function row(store) {
    const slug = encodeURIComponent(store.slug);
    const name = h('input', { value: store.name, 'aria-label': `Name of ${store.slug}`, name: 'name' });
    const zone = h('input', { value: store.time_zone, list: zonesId, 'aria-label': `Time zone of ${store.slug}`, name: 'time_zone' });
    const pub = h('input', { type: 'checkbox', checked: store.public, 'aria-label': `${store.slug} is public`, name: 'public' });
    const save = h('button', { type: 'button', class: 'small', text: 'Save', on: { click: () => {
      const body = {};
      if (name.value !== store.name) body.name = name.value;
      if (zone.value !== store.time_zone) body.time_zone = zone.value;
      if (pub.checked !== store.public) body.public = pub.checked;
      if (!Object.keys(body).length) return ctx.say(`Nothing to save for ${store.slug}.`);
      return ctx.run(`Saved ${store.slug}.`, () => ctx.api.request('PATCH', `/admin/stores/${slug}`, { body }));
    } } });
    const archive = store.archived
      ? h('button', { type: 'button', class: 'small', text: 'Restore', on: { click: () =>
        ctx.run(`Restored ${store.slug}.`, () => ctx.api.request('POST', `/admin/stores/${slug}/restore`)) } })
      : h('button', { type: 'button', class: 'small', text: 'Archive', on: { click: () =>
        ctx.run(`Archived ${store.slug}.`, () => ctx.api.request('POST', `/admin/stores/${slug}/archive`)) } });
    const exportLink = h('a', { href: `/api/v1/stores/${slug}/products/export?format=csv`, text: 'Export', download: `${store.slug}.csv` });
    const remove = store.archived ? h('button', { type: 'button', class: 'small danger', text: 'Delete', on: { click: () => {
      if (!window.confirm(`Delete ${store.slug} with all its products, sales and history? Export it first.`)) return undefined;
      return ctx.run(`Deleted ${store.slug}.`, () => ctx.api.request('DELETE', `/admin/stores/${slug}`));
    } } }) : null;
    return h('tr', { dataset: { store: store.slug } },
      h('th', { scope: 'row', text: store.slug }),
      h('td', {}, name),
      h('td', { text: store.currency }),
      h('td', {}, zone),
      h('td', {}, pub),
      h('td', { text: store.archived ? 'archived' : 'active' }),
      h('td', { class: 'actions' }, save, ' ', archive, ' ', exportLink, ' ', remove));
  }

  const [slugLabel, slugInput] = field('Slug', { name: 'slug', required: true, pattern: '[a-z][a-z0-9\\-]*[a-z0-9]', maxlength: 32 });
  const [nameLabel, nameInput] = field('Name', { name: 'name', required: true, maxlength: 200 });
  const [curLabel, curInput] = field('Currency (ISO 4217)', { name: 'currency', required: true, pattern: '[A-Z]{3}', value: 'USD' });
  const [zoneLabel, zoneInput] = field('Time zone', { name: 'time_zone', required: true, list: zonesId, value: 'UTC' });
  const publicId = uniqueId('store-public');
  const form = h('form', { class: 'inline-form', 'aria-label': 'New store' },
    slugLabel, slugInput, nameLabel, nameInput, curLabel, curInput, zoneLabel, zoneInput,
    h('span', { class: 'field-inline' }, h('input', { id: publicId, type: 'checkbox', name: 'public' }), h('label', { for: publicId, text: 'Public' })),
    h('button', { type: 'submit', text: 'Create store' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = { slug: slugInput.value, name: nameInput.value, currency: curInput.value,
      time_zone: zoneInput.value, public: form.public.checked };
    ctx.run(`Created ${body.slug}.`, async () => {
      await ctx.api.request('POST', '/admin/stores', { body });
      form.reset();
    });
  });

  const el = h('section', { class: 'card', 'aria-labelledby': 'stores-title' },
    h('h2', { id: 'stores-title', text: 'Stores' }),
    h('p', { class: 'muted', text: 'Slugs are 2-32 characters of a-z 0-9 -, start with a letter and never change. '
      + 'The currency cannot change once a store has products or sales. Only archived stores can be deleted.' }),
    h('div', { class: 'table-wrap' }, table),
    h('h3', { text: 'New store' }), form, zoneList(zonesId));

  async function load() {
    const stores = await ctx.api.request('GET', '/admin/stores');
    rows.replaceChildren(...stores.map(row));
  }
  return { el, load };
}
