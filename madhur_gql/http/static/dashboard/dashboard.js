// The operations dashboard: polls /admin/dashboard/data (admin token) and plots, with uPlot,
// what /metrics counts: requests and latency by operation, the recommender index's size and
// build time. The server keeps a short history of samples; rates come from their differences.
"use strict";

const TOKEN_KEY = "madhur.dashboard.token";
const POLL_MS = 5000;
const MAX_OPERATIONS = 8;
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
const charts = {};

const status = (text, error = false) => {
  const node = document.getElementById("status");
  node.textContent = text;
  node.className = error ? "error" : "";
};

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

function askForToken(message) {
  document.getElementById("login").hidden = false;
  status(message, true);
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, document.getElementById("token").value.trim());
  document.getElementById("login").hidden = true;
  refresh();
});

// Per-interval rates and mean latencies per operation, from cumulative counters.
function operationSeries(samples) {
  const totals = {};
  for (const sample of samples) {
    for (const [name, op] of Object.entries(sample.operations)) totals[name] = op.count;
  }
  const names = Object.keys(totals).sort((a, b) => totals[b] - totals[a]).slice(0, MAX_OPERATIONS);
  const times = samples.slice(1).map((s) => s.time);
  const rates = names.map(() => []);
  const latencies = names.map(() => []);
  for (let i = 1; i < samples.length; i++) {
    const seconds = Math.max(samples[i].time - samples[i - 1].time, 1e-3);
    names.forEach((name, k) => {
      const now = samples[i].operations[name] ?? { count: 0, seconds: 0 };
      const before = samples[i - 1].operations[name] ?? { count: 0, seconds: 0 };
      const count = Math.max(now.count - before.count, 0);
      rates[k].push(count / seconds);
      latencies[k].push(count ? ((now.seconds - before.seconds) / count) * 1000 : null);
    });
  }
  return { names, times, rates, latencies };
}

function draw(id, title, times, names, columns) {
  const node = document.getElementById(id);
  if (times.length === 0 || names.length === 0) {
    charts[id]?.destroy();
    delete charts[id];
    node.innerHTML = '<div class="empty">No data yet.</div>';
    node.dataset.points = "0";
    return;
  }
  const data = [times, ...columns];
  const key = names.join("\u0000");
  if (charts[id] && charts[id].madhurKey === key) {
    charts[id].setData(data);
  } else {
    charts[id]?.destroy();
    node.innerHTML = "";
    const series = [{}, ...names.map((name, k) => ({ label: name, stroke: COLOURS[k % COLOURS.length], width: 2, spanGaps: true }))];
    charts[id] = new uPlot({ title, width: Math.max(node.clientWidth, 520), height: 240, series }, data, node);
    charts[id].madhurKey = key;
  }
  node.dataset.points = String(times.length);
}

function render(payload) {
  const samples = payload.samples;
  const ops = operationSeries(samples);
  draw("requests", "requests/s", ops.times, ops.names, ops.rates);
  draw("latency", "ms", ops.times, ops.names, ops.latencies);
  const times = samples.map((s) => s.time);
  const figure = (name) => samples.map((s) => s.recommender[name] ?? null);
  draw("index", "index", times, ["items", "users"], [figure("items"), figure("users")]);
  draw("build", "seconds", times, ["build seconds"], [figure("build_seconds")]);
  document.body.dataset.rendered = String(samples.length);
  status(`${samples.length} samples, every ${payload.sample_seconds} s; updated ${new Date().toLocaleTimeString()}`);
}

async function refresh() {
  const bearer = token();
  if (!bearer) return askForToken("An admin access token is needed.");
  let response;
  try {
    response = await fetch("data", { headers: { Authorization: `Bearer ${bearer}` } });
  } catch (error) {
    return status(`The server did not answer: ${error}`, true);
  }
  if (response.status === 401 || response.status === 403) {
    sessionStorage.removeItem(TOKEN_KEY);
    const body = await response.json().catch(() => ({}));
    return askForToken(body.errors?.[0]?.message ?? "This token is not an admin's.");
  }
  if (!response.ok) return status(`The server answered ${response.status}.`, true);
  render(await response.json());
}

refresh();
setInterval(() => token() && refresh(), POLL_MS);
