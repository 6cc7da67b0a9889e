// storefront.js: the storefront dashboard (/storefront and /): live figures,
// the sales chart with its trend, the product table, and following the page
// an admin publishes.

import { boot } from './app.js';
import { h } from './dom.js';
import { dashboardView } from './views/dashboard.js';
import { salesChart } from './views/chart.js';
import { productsView } from './views/products.js';
import { healthView } from './views/health.js';
import { feedbackControl } from './views/feedback.js';

const FOLLOW_KEY = 'storesync:follow';

function mount({ client, announce, root }) {
  const follow = h('input', { type: 'checkbox', id: 'follow', name: 'follow', checked: client.state.get().follow });
  follow.addEventListener('change', () => {
    localStorage.setItem(FOLLOW_KEY, follow.checked ? '1' : '0');
    client.setFollow(follow.checked);
    announce(follow.checked ? 'Following the admin’s page' : 'Not following the admin');
  });
  client.addEventListener('published', (ev) => {
    if (client.state.get().follow) announce(`Moved to page ${ev.detail.view.page}, published by the admin`);
  });

  const products = productsView(client);
  products.querySelector('h2').after(
    h('p', { class: 'follow' }, follow, ' ', h('label', { for: 'follow', text: 'Follow the admin’s page' })));

  root.append(
    dashboardView(client),
    salesChart(client),
    products,
    h('details', { class: 'card' }, h('summary', { text: 'Connection details' }), healthView(client)),
    feedbackControl(client));
}

boot({
  title: 'storesync storefront',
  other: { href: '/admin', text: 'Admin' },
  mount,
  follow: localStorage.getItem(FOLLOW_KEY) === '1',
});
