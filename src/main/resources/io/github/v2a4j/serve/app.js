// The v2a4j web page: upload a video, follow the job, play and download the result.
// Plain JavaScript, no build step; the token (if the service needs one) stays in this tab's sessionStorage.
'use strict';

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('v2a-token') || '';
let pollTimer = null;
let currentJob = null;
const objectUrls = [];

function authHeaders() {
  return token ? { Authorization: 'Bearer ' + token } : {};
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...authHeaders(), ...(options.headers || {}) } });
  if (response.status === 401) {
    $('token-box').hidden = false;
    throw new Error('the service needs a token');
  }
  return response;
}

async function errorText(response) {
  try {
    return (await response.json()).error || response.statusText;
  } catch (e) {
    return response.statusText;
  }
}

function show(state, text, detail) {
  $('job').hidden = false;
  $('state').dataset.state = state;
  $('state').textContent = text;
  $('detail').textContent = detail || '';
}

function submitForm(event) {
  event.preventDefault();
  const form = new FormData();
  for (const name of ['prompt', 'negative_prompt', 'seed', 'steps', 'guidance', 'max_duration']) {
    const value = $(name).value.trim();
    if (value !== '') form.append(name, value);
  }
  if ($('keep_video').checked) form.append('keep_video', 'true');
  const file = $('video-file').files[0];
  if (!file) return;
  form.append('video', file, file.name);
  resetResult();
  $('submit').disabled = true;
  // XMLHttpRequest rather than fetch: it reports upload progress
  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/v1/jobs');
  for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) {
      $('progress').value = e.loaded / e.total;
      show('uploading', 'Uploading', Math.round(100 * e.loaded / e.total) + ' %');
    }
  };
  xhr.onload = () => {
    $('submit').disabled = false;
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
    if (xhr.status === 202) {
      currentJob = body.id;
      follow(body.url);
    } else {
      if (xhr.status === 401) $('token-box').hidden = false;
      const retry = xhr.getResponseHeader('Retry-After');
      show('failed', 'Not accepted', (body.error || xhr.statusText) + (retry ? ' (try again in ' + retry + ' s)' : ''));
    }
  };
  xhr.onerror = () => {
    $('submit').disabled = false;
    show('failed', 'Upload failed', 'the connection closed');
  };
  xhr.send(form);
}

function follow(url) {
  clearTimeout(pollTimer);
  const poll = async () => {
    let job;
    try {
      const response = await api(url);
      if (!response.ok) {
        show('failed', 'Lost the job', await errorText(response));
        return;
      }
      job = await response.json();
    } catch (e) {
      show('failed', 'Cannot reach the service', e.message);
      return;
    }
    render(job);
    if (job.state === 'queued' || job.state === 'running') pollTimer = setTimeout(poll, 1000);
    else if (job.state === 'done') await showResult(job);
  };
  poll();
}

function render(job) {
  $('cancel').hidden = !(job.state === 'queued' || job.state === 'running');
  if (job.state === 'queued') {
    $('progress').value = 0;
    show('queued', 'Queued', 'position ' + job.position + ' in the queue');
  } else if (job.state === 'running') {
    const p = job.progress;
    $('progress').value = p && p.units ? p.done / p.units : 0;
    const step = p && p.units > 1 ? ' ' + p.done + '/' + p.units : '';
    show('running', job.cancel_requested ? 'Cancelling' : 'Running', (job.stage_label || 'starting') + step);
  } else if (job.state === 'done') {
    $('progress').value = 1;
    const total = Object.values(job.timings_seconds).reduce((a, b) => a + b, 0);
    show('done', 'Done', job.audio_seconds.toFixed(2) + ' s of audio, made in ' + total.toFixed(1) + ' s');
  } else if (job.state === 'failed') {
    show('failed', 'Failed', job.error);
  } else {
    show('cancelled', 'Cancelled', '');
  }
}

async function blobUrl(path) {
  const response = await api(path);
  if (!response.ok) throw new Error(await errorText(response));
  const url = URL.createObjectURL(await response.blob());
  objectUrls.push(url);
  return url;
}

async function showResult(job) {
  try {
    const video = await blobUrl(job.links.result);
    const audio = await blobUrl(job.links.audio);
    const spectrogram = await blobUrl(job.links.spectrogram);
    $('result-video').src = video;
    $('download-video').href = video;
    $('download-video').download = 'v2a-' + job.id + '.mp4';
    $('download-audio').href = audio;
    $('download-audio').download = 'v2a-' + job.id + '.wav';
    $('download-spectrogram').href = spectrogram;
    $('download-spectrogram').download = 'v2a-' + job.id + '.png';
    $('spectrogram').src = spectrogram;
    $('result').hidden = false;
  } catch (e) {
    show('failed', 'Cannot fetch the result', e.message);
  }
}

function resetResult() {
  clearTimeout(pollTimer);
  objectUrls.splice(0).forEach((u) => URL.revokeObjectURL(u));
  $('result').hidden = true;
  $('result-video').removeAttribute('src');
}

async function cancel() {
  if (!currentJob) return;
  const response = await api('/v1/jobs/' + currentJob, { method: 'DELETE' });
  if (!response.ok && response.status !== 204) show('failed', 'Cannot cancel', await errorText(response));
}

document.addEventListener('DOMContentLoaded', () => {
  $('job-form').addEventListener('submit', submitForm);
  $('cancel').addEventListener('click', cancel);
  $('token-save').addEventListener('click', () => {
    token = $('token').value.trim();
    sessionStorage.setItem('v2a-token', token);
    $('token-box').hidden = true;
  });
  // an unauthenticated readiness probe tells whether the service wants a token
  fetch('/readyz', { headers: authHeaders() }).then((r) => { if (r.status === 401) $('token-box').hidden = false; });
});
