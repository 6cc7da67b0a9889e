// views/describe.js: one short sentence per event, for the announcer and
// the history panel.

import { formatMoney } from '../format.js';

/**
 * @param {any} e event
 * @param {any} state sync state (for the currency and product names)
 * @returns {string}
 */
export function describeEvent(e, state) {
  const cur = state.info?.currency;
  const d = e.data ?? {};
  const row = state.page?.rows.find((r) => r.id === (e.entity_id ?? d.id));
  const name = d.name ?? row?.name ?? `product ${e.entity_id ?? d.id}`;
  switch (e.kind) {
    case 'product.created': return `New product ${d.name}`;
    case 'product.updated': {
      const parts = [];
      if (d.price !== undefined) parts.push(`price ${formatMoney(d.price, cur)}`);
      if (d.stock !== undefined) parts.push(`stock ${d.stock}`);
      if (d.status !== undefined) parts.push(`status ${d.status}`);
      if (d.name !== undefined) parts.push('name');
      return `${name}: ${parts.join(', ') || 'updated'}`;
    }
    case 'product.deleted': return `${name} deleted`;
    case 'product.image_changed': return `${name}: image ${d.image ? 'changed' : 'removed'}`;
    case 'dashboard.updated': return 'Dashboard figures updated';
    case 'sales.updated': return `Sale of ${formatMoney(d.amount, cur)} recorded`;
    case 'view.published': return `Page ${d.view?.page} published`;
    case 'schedule.updated': return `Scheduled change ${e.entity_id} ${d.status}${d.status === 'failed' ? ` (${d.reason})` : ''}`;
    default: return '';
  }
}
