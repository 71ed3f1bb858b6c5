/**
 * `report --html`: one self-contained file (docs/guardrails.md). The chart library (uPlot, MIT) and
 * its stylesheet are inlined, the data travels as JSON in the page, nothing is fetched: it opens
 * offline, on a phone, and prints. Unsubscribes per provider are drawn as plain SVG (no script needed).
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { escapeHtml } from '#core/escape-html.ts';
import type { DeliverabilityReport } from '#core/guardrails/deliverability-report.ts';

const require = createRequire(import.meta.url);

function asset(name: string): string {
  return readFileSync(require.resolve(`uplot/dist/${name}`), 'utf8');
}

/** JSON safe inside a <script> element: no `</script>`, no HTML comment openers, no U+2028/9. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)} %`);

function table(
  title: string,
  rows: DeliverabilityReport['sendingDomains'] | DeliverabilityReport['vmtas'],
  id: string,
): string {
  const body = rows
    .map((r) => {
      const state = 'guardrail' in r ? `<td class="state ${r.guardrail}">${r.guardrail}</td>` : '';
      const blocks = Object.values(r.blocks).reduce((a, b) => a + b, 0);
      return `<tr><th scope="row">${escapeHtml(r.name)}</th><td>${r.deliveries}</td><td>${r.hardBounces}</td><td>${r.softBounces}</td><td>${blocks}</td><td>${r.complaints}</td><td>${pct(r.complaintRate)}</td><td>${pct(r.blockShare)}</td>${state}</tr>`;
    })
    .join('');
  const stateHead = rows[0] && 'guardrail' in rows[0] ? '<th scope="col">guardrail</th>' : '';
  return `<section><h2>${escapeHtml(title)}</h2><div class="scroll"><table id="${id}"><thead><tr><th scope="col">name</th><th scope="col">deliveries</th><th scope="col">hard</th><th scope="col">soft</th><th scope="col">blocks</th><th scope="col">complaints</th><th scope="col">complaint rate</th><th scope="col">block share</th>${stateHead}</tr></thead><tbody>${body}</tbody></table></div></section>`;
}

/** Horizontal bars, drawn here so the chart needs no script. */
function unsubscribeBars(byProvider: Record<string, number>): string {
  const entries = Object.entries(byProvider);
  if (entries.length === 0) return '<p class="empty">No provider unsubscribed anyone in this window.</p>';
  const max = Math.max(...entries.map(([, n]) => n));
  const rowH = 28;
  const bars = entries
    .map(([name, n], i) => {
      const w = Math.max(2, Math.round((n / max) * 300));
      const y = i * rowH;
      return `<g data-series="${escapeHtml(name)}" data-value="${n}"><text x="0" y="${y + 18}">${escapeHtml(name)}</text><rect x="140" y="${y + 4}" width="${w}" height="18" rx="3"></rect><text x="${148 + w}" y="${y + 18}">${n}</text></g>`;
    })
    .join('');
  return `<svg id="chart-unsubscribes" role="img" aria-label="Unsubscribes per provider" viewBox="0 0 520 ${entries.length * rowH + 8}" width="100%">${bars}</svg>`;
}

function guardrailList(report: DeliverabilityReport): string {
  if (report.guardrails.length === 0) return '<p class="ok-line">No guardrail tripped in this window.</p>';
  const items = report.guardrails.map((t) => {
    const what =
      t.kind === 'complaint-rate'
        ? `complaint rate ${pct(t.rate)} for <b>${escapeHtml(t.sendingDomain)}</b> on ${t.day} (${t.complaints} / ${t.deliveries}; limit ${pct(t.threshold)})`
        : `block spike at <b>${escapeHtml(t.mailboxProvider)}</b> through <b>${escapeHtml(t.vmta)}</b> at ${t.hour} (${t.blocks} / ${t.attempts} = ${pct(t.share)}; limit ${pct(t.threshold)})`;
    return `<li class="${t.level}"><span class="badge">${t.level}</span> ${what}</li>`;
  });
  return `<ul class="trips">${items.join('')}</ul>`;
}

const STYLE = `
:root{--ink:#1d232b;--muted:#5b6470;--ok:#1b7f3b;--warn:#a35d00;--crit:#b3261e;--bar:#3563c9}
*{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);margin:0 auto;max-width:1100px;padding:16px}
h1{font-size:1.4rem;margin:.2em 0}h2{font-size:1.1rem;margin:1.4em 0 .4em}.muted{color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:8px}.card{border:1px solid #d5d9de;border-radius:8px;padding:8px 10px}.card b{display:block;font-size:1.3rem}
.chart{min-height:220px;border:1px solid #e3e6ea;border-radius:8px;padding:6px;margin:6px 0}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}th,td{padding:4px 8px;border-bottom:1px solid #e3e6ea;text-align:right}th[scope=row],thead th:first-child{text-align:left}
.state.ok{color:var(--ok)}.state.warn{color:var(--warn)}.state.critical{color:var(--crit);font-weight:600}
.trips{padding-left:0;list-style:none}.trips li{margin:4px 0}.badge{display:inline-block;min-width:64px;text-align:center;border-radius:4px;color:#fff;padding:0 6px}.warn .badge{background:var(--warn)}.critical .badge{background:var(--crit)}.ok-line{color:var(--ok)}
svg text{font-size:13px;fill:var(--ink)}svg rect{fill:var(--bar)}
@media print{body{max-width:none}.chart{break-inside:avoid}section{break-inside:avoid}}
`;

/** The page's own script: reads the embedded data and draws the three time charts with uPlot. */
const DRAW = `
(function(){
var data=JSON.parse(document.getElementById('report-data').textContent);
var palette=['#3563c9','#b3261e','#1b7f3b','#a35d00','#7b3fb5','#0f7c8c','#8c6d1f','#c2185b'];
var DAY=86400,HOUR=3600;
function uniq(xs){var s={};xs.forEach(function(x){s[x]=1});return Object.keys(s).sort()}
function secs(iso){return Date.parse(iso.length===10?iso+'T00:00:00Z':iso)/1000}
function width(el){return Math.max(280,el.clientWidth-12)}
function draw(id,title,xs,pad,series,fmt){var el=document.getElementById(id);var x=xs.map(secs);
var opts={title:title,width:width(el),height:220,scales:{x:{time:true,range:function(){return [x[0]-pad,x[x.length-1]+pad]}}},
series:[{}].concat(series.map(function(s,i){return {label:s.label,stroke:s.stroke||palette[i%palette.length],width:2,dash:s.dash,points:{show:!s.dash,size:7},value:function(u,v){return v==null?'\u2014':fmt(v)}}})),
axes:[{},{size:64,values:function(u,vals){return vals.map(fmt)}}],
hooks:{draw:[function(u){var c=u.ctx;series.forEach(function(s,i){if(!s.dash)return;var y=u.valToPos(s.values[0],'y',true);c.save();c.strokeStyle=u.series[i+1].stroke();c.setLineDash(s.dash);c.lineWidth=2;c.beginPath();c.moveTo(u.bbox.left,y);c.lineTo(u.bbox.left+u.bbox.width,y);c.stroke();c.restore()})}]}};
var ymax=0;series.forEach(function(s){s.values.forEach(function(v){if(v!=null&&v>ymax)ymax=v})});opts.scales.y={range:function(){return [0,ymax*1.15||1]}};
var plot=new uPlot(opts,[x].concat(series.map(function(s){return s.values})),el);
el.setAttribute('data-series',series.map(function(s){return s.label}).join('|'));window.__charts=(window.__charts||[]).concat([{id:id,data:plot.data}]);}
var pct=function(v){return (v*100).toFixed(2)+' %'};var num=function(v){return String(Math.round(v))};
var days=uniq(data.daily.map(function(r){return r.day}));
var domains=data.sendingDomains.filter(function(g){return g.deliveries>0}).map(function(g){return g.name}).slice(0,8);
var rate=domains.map(function(name){return {label:name,values:days.map(function(day){var r=data.daily.find(function(x){return x.day===day&&x.sendingDomain===name});return r&&r.complaintRate!=null?r.complaintRate:null})}});
rate.push({label:'warn '+pct(data.settings.complaintRate.warn),stroke:'#a35d00',dash:[6,4],values:days.map(function(){return data.settings.complaintRate.warn})});
rate.push({label:'critical '+pct(data.settings.complaintRate.critical),stroke:'#b3261e',dash:[6,4],values:days.map(function(){return data.settings.complaintRate.critical})});
if(days.length)draw('chart-complaint-rate','Complaint rate per sending domain and day',days,DAY,rate,pct);
var step=data.step==='hour'?HOUR:DAY;var ts=data.timeline.map(function(p){return p.t});
function blocks(p){return Object.keys(p.blocks).reduce(function(a,k){return a+p.blocks[k]},0)}
if(ts.length)draw('chart-bounces','Bounces and complaints per '+data.step,ts,step,[{label:'hard bounces',values:data.timeline.map(function(p){return p.hardBounces})},{label:'soft bounces',values:data.timeline.map(function(p){return p.softBounces})},{label:'sender-side blocks',values:data.timeline.map(blocks)},{label:'complaints',values:data.timeline.map(function(p){return p.complaints})}],num);
var pairs={};data.blockTimeline.forEach(function(b){if(b.blocks>0){var k=b.mailboxProvider+' via '+b.vmta;pairs[k]=(pairs[k]||0)+b.blocks}});
var top=Object.keys(pairs).sort(function(a,b){return pairs[b]-pairs[a]}).slice(0,8);
if(top.length===0){document.getElementById('chart-blocks').textContent='No sender-side blocks in this window.'}else{
draw('chart-blocks','Sender-side blocks by mailbox provider and VirtualMTA per '+data.step,ts,step,top.map(function(label){return {label:label,values:ts.map(function(t){var r=data.blockTimeline.find(function(x){return x.t===t&&(x.mailboxProvider+' via '+x.vmta)===label});return r?r.blocks:0})}}),num);}
})();
`;

function renderReportHtml(report: DeliverabilityReport, generatedAt: number): string {
  const t = report.totals;
  const window = `${report.window.since ?? 'the beginning'} – ${report.window.until ?? 'now'}`;
  const card = (label: string, value: string) =>
    `<div class="card"><span class="muted">${label}</span><b>${value}</b></div>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,"><title>pmta-bounce deliverability report</title><style>${asset('uPlot.min.css')}${STYLE}</style></head><body>
<header><h1>Deliverability report</h1><p class="muted">${escapeHtml(window)} · generated ${new Date(generatedAt).toISOString()}</p></header>
<section aria-label="Totals"><div class="cards">${card('deliveries', String(t.deliveries))}${card('hard bounces', String(t.hardBounces))}${card('soft bounces', String(t.softBounces))}${card('complaints', String(t.complaints))}${card('complaint rate', pct(t.complaintRate))}${card('pending actions', `${report.pending.actions} (${report.pending.olderThan24h} > 24 h)`)}</div></section>
<section><h2>Guardrails</h2>${guardrailList(report)}</section>
<section><h2>Complaint rate</h2><div class="chart" id="chart-complaint-rate"></div></section>
<section><h2>Bounces over time</h2><div class="chart" id="chart-bounces"></div></section>
<section><h2>Blocks</h2><div class="chart" id="chart-blocks"></div></section>
<section><h2>Unsubscribes per provider</h2>${unsubscribeBars(report.unsubscribes.byProvider)}</section>
${table('Sending domains', report.sendingDomains, 'table-sending-domains')}
${table('Mailbox providers', report.mailboxProviders, 'table-mailbox-providers')}
${table('VirtualMTAs', report.vmtas, 'table-vmtas')}
${table('Jobs', report.jobs, 'table-jobs')}
<script type="application/json" id="report-data">${scriptJson(report)}</script>
<script>${asset('uPlot.iife.min.js')}</script><script>${DRAW}</script>
</body></html>
`;
}

export { renderReportHtml };
