// storefront.js: the storefront (/storefront and /): the product grid with
// live prices and badges, the store's figures and sales chart, and
// following the page an admin publishes. A follower who moves to another
// page is told they left the admin's page, with a way back; the next page
// the admin publishes moves them again.

import { boot } from './app.js';
import { h } from './dom.js';
import { dashboardView } from './views/dashboard.js';
import { salesChart } from './views/chart.js';
import { productsView } from './views/products.js';
import { healthView } from './views/health.js';
import { liveTopicsControl } from './views/live-topics.js';
import { feedbackControl } from './views/feedback.js';

const FOLLOW_KEY = 'storesync:follow';

/** Same page of the same listing. */
function sameView(a, b) {
  return ['page', 'page_size', 'sort', 'dir', 'q', 'status'].every((k) => (a?.[k] ?? '') === (b?.[k] ?? ''));
}

function mount({ client, announce, root }) {
  const follow = h('input', { type: 'checkbox', id: 'follow', name: 'follow', checked: client.state.get().follow });
  const left = h('p', { class: 'follow-left', id: 'follow-left', role: 'status', hidden: true });
  const back = h('button', { type: 'button', class: 'small', text: 'Back to the admin’s page' });
  /** The view the admin published last (while this page was open). */
  let adminView = null;

  const renderLeft = () => {
    const s = client.state.get();
    const away = s.follow && adminView !== null && !sameView(s.view, adminView);
    left.hidden = !away;
    if (away) {
      left.replaceChildren(`You left the admin’s page (page ${adminView.page}); the next page they publish brings you back. `, back);
    }
  };
  back.addEventListener('click', () => {
    if (adminView) client.setView(adminView);
  });
  follow.addEventListener('change', () => {
    localStorage.setItem(FOLLOW_KEY, follow.checked ? '1' : '0');
    client.setFollow(follow.checked);
    announce(follow.checked ? 'Following the admin’s page' : 'Not following the admin');
    renderLeft();
  });
  client.addEventListener('published', (ev) => {
    adminView = ev.detail.view;
    if (client.state.get().follow) announce(`Moved to page ${ev.detail.view.page}, published by the admin`);
  });
  client.state.subscribe((s, reason) => {
    if (['view', 'page', 'follow', 'switch'].includes(reason)) {
      if (reason === 'switch') adminView = null;
      renderLeft();
    }
  });

  const products = productsView(client, { grid: true }).el;
  products.querySelector('h2').after(
    h('div', { class: 'follow' }, h('p', {}, follow, ' ', h('label', { for: 'follow', text: 'Follow the admin’s page' })), left));

  root.append(
    products,
    dashboardView(client),
    salesChart(client),
    h('details', { class: 'card' }, h('summary', { text: 'Connection details' }), healthView(client), liveTopicsControl(client)),
    feedbackControl(client));
}

boot({
  title: 'storesync storefront',
  other: { href: '/admin', text: 'Admin' },
  mount,
  follow: localStorage.getItem(FOLLOW_KEY) === '1',
});
