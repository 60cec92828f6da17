/* Storefront Hub points widget, v1.
 *
 * Embed on a storefront:
 *   <script src="//HUB/widget/v1/loader.js" data-connection="12"
 *           data-token="TOKEN SIGNED BY THE STORE'S SERVER" data-locale="vi" async></script>
 * Optional: data-token-url (a same-origin URL on the store answering {"token": "..."} for a
 * fresh token), data-hub (the hub's origin, default: where this script came from).
 *
 * Everything is drawn inside a Shadow DOM: the store's CSS cannot reach it, and it never
 * touches the store's page. No framework, no requests anywhere but the hub and the store.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__storefrontHubWidget) return;
  window.__storefrontHubWidget = true;

  var conf = {
    hub: script.getAttribute("data-hub") || new URL(script.src).origin,
    connection: script.getAttribute("data-connection"),
    token: script.getAttribute("data-token") || "",
    tokenUrl: script.getAttribute("data-token-url"),
    locale: (script.getAttribute("data-locale") || document.documentElement.lang || "vi")
      .slice(0, 2).toLowerCase()
  };
  if (conf.locale !== "en") conf.locale = "vi";

  // The words come with the panel's data, from the hub's catalogues (vi, en).
  var T = {};
  var tag = conf.locale === "vi" ? "vi-VN" : "en-US";
  var plural = new Intl.PluralRules(tag);
  function fill(s, vars) {
    for (var k in vars || {}) s = s.split("{" + k + "}").join(vars[k]);
    return s;
  }
  function t(key, vars) { return fill(typeof T[key] === "string" ? T[key] : key, vars); }
  function tn(key, n, vars) {
    var forms = T[key] || {};
    var form = forms[plural.select(Number(n))] || forms.other || key;
    return fill(form, Object.assign({ n: num(n) }, vars || {}));
  }
  /* Analytics: the store's own dataLayer (Google Tag Manager, GA4), when it has one;
     the widget itself sends nothing anywhere but the hub. */
  function track(name, params) {
    if (!Array.isArray(window.dataLayer)) return;
    window.dataLayer.push(Object.assign({ event: name, loyalty_connection: conf.connection }, params || {}));
  }
  var state = null, currency = "VND", lastFocus = null;
  function num(n) { return new Intl.NumberFormat(tag).format(Number(n || 0)); }
  function money(v) {
    try {
      return new Intl.NumberFormat(tag, { style: "currency", currency: currency,
        maximumFractionDigits: currency === "VND" ? 0 : 2 }).format(Number(v || 0));
    } catch (e) { return num(v) + " " + currency; }
  }
  function el(name, attrs, children) {
    var node = document.createElement(name);
    for (var k in attrs || {}) {
      if (k === "text") node.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined) node.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  var host = el("div", { id: "storefront-hub-widget" });
  var root = host.attachShadow({ mode: "open" });
  var host = el("div", { id: "storefront-hub-widget" });
  var root = host.attachShadow({ mode: "open" });
  var css = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    ".launcher{position:fixed;bottom:20px;z-index:2147483000;border:0;border-radius:999px;padding:12px 18px;min-height:48px;",
    "color:#fff;background:var(--c,#0b6e4f);font-size:15px;font-weight:600;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".launcher:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}",
    ".panel{position:fixed;bottom:80px;z-index:2147483001;width:380px;max-height:min(640px,calc(100vh - 100px));",
    "overflow:auto;background:#fff;color:#1d2430;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.3);font-size:14px;line-height:1.45}",
    ".right{right:20px}.left{left:20px}",
    ".head{background:var(--c,#0b6e4f);color:#fff;padding:16px 56px 16px 16px;position:sticky;top:0;z-index:1}",
    ".head h2{margin:0;font-size:17px}.head p{margin:4px 0 0}",
    ".x{position:absolute;top:6px;right:6px;background:transparent;border:0;color:#fff;font-size:24px;cursor:pointer;width:44px;height:44px}",
    "section{padding:12px 16px;border-bottom:1px solid #e7eaf0}section h3{margin:0 0 8px;font-size:14px}",
    ".big{font-size:28px;font-weight:700}.muted{color:#5b6575}",
    ".bar{height:8px;background:#e7eaf0;border-radius:4px;overflow:hidden;margin:6px 0}",
    ".bar span{display:block;height:100%;background:var(--c,#0b6e4f)}",
    "ul{list-style:none;margin:0;padding:0}li{padding:6px 0;display:flex;justify-content:space-between;gap:8px;align-items:center}",
    "li.tier{display:block}li.tier b{margin-right:6px}",
    ".act{background:var(--c,#0b6e4f);color:#fff;border:0;border-radius:8px;padding:0 14px;min-height:44px;min-width:44px;",
    "font-size:14px;font-weight:600;cursor:pointer;text-decoration:none;display:inline-flex;align-items:center;justify-content:center;flex:none}",
    ".act.ghost{background:#fff;color:var(--c,#0b6e4f);border:2px solid var(--c,#0b6e4f)}",
    "button[disabled]{background:#9aa3b0;cursor:not-allowed}",
    ".row{display:flex;gap:8px;flex-wrap:wrap;margin-top:8px}",
    ".ask{display:block;background:#f4f6f9;border-radius:8px;padding:10px;margin:4px 0}",
    ".code{font-family:ui-monospace,Menlo,monospace;font-weight:700;letter-spacing:1px}",
    ".qr{width:164px;height:164px;margin:8px 0}.qr svg{display:block;width:164px;height:164px}",
    ".link{word-break:break-all;font-size:13px}",
    ".activity li{display:grid;grid-template-columns:auto 1fr auto;gap:8px}.activity .pts{font-weight:600;white-space:nowrap}",
    ".note{padding:10px 16px;background:#e9f6ef;color:#0b4d37}.err{background:#fdecea;color:#8a1c14}",
    "@media (max-width:480px){.panel{left:0;right:0;bottom:0;width:100%;max-height:85vh;border-radius:14px 14px 0 0}",
    ".launcher{bottom:12px}.right.launcher{right:12px}.left.launcher{left:12px}}"
  ].join("");
  root.appendChild(el("style", { text: css }));
  // Hidden until the hub has answered: its answer carries the words to show.
  var launcher = el("button", { "class": "launcher", type: "button", "aria-haspopup": "dialog",
    "aria-expanded": "false", "aria-controls": "shw-panel", hidden: "" });
  var panel = el("div", { id: "shw-panel", "class": "panel", role: "dialog", "aria-modal": "true",
    "aria-labelledby": "shw-title", hidden: "" });
  var live = el("div", { role: "status", "aria-live": "polite", style: "position:absolute;left:-9999px" });
  root.appendChild(launcher); root.appendChild(panel); root.appendChild(live);

  function position(side) {
    var cls = side === "left" ? "left" : "right";
    launcher.className = "launcher " + cls;
    panel.className = "panel " + cls;
  }
  position("right");

  function focusables() {
    return Array.prototype.slice.call(panel.querySelectorAll("button:not([disabled]),a[href],[tabindex='0']"));
  }
  function open() {
    lastFocus = document.activeElement;
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    render();
    var first = focusables()[0];
    if (first) first.focus();
    track("loyalty_panel_open", { loyalty_member: !!(state && state.member) });
  }
  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    confirming = null;
    launcher.focus();
  }
  launcher.addEventListener("click", function () { panel.hidden ? open() : close(); });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); close(); return; }
    if (e.key !== "Tab") return;
    var items = focusables();
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1], active = root.activeElement;
    if (e.shiftKey && active === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && active === last) { e.preventDefault(); first.focus(); }
  });

  function api(path, options) {
    options = options || {};
    options.headers = options.headers || {};
    if (conf.token) options.headers["Authorization"] = "Bearer " + conf.token;
    return fetch(conf.hub + "/widget/v1/c/" + conf.connection + path, options).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; });
    });
  }
  function freshToken() {
    if (!conf.tokenUrl) return Promise.resolve();
    return fetch(conf.tokenUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (b) { if (b && b.token) conf.token = b.token; })
      .catch(function () {});
  }
  function load() {
    return api("/state?locale=" + conf.locale).then(function (res) {
      if (!res.ok) throw new Error(res.status);
      state = res.body;
      T = state.texts || T;
      currency = state.currency || "VND";
      root.host.style.setProperty("--c", (state.theme && state.theme.colour) || "#0b6e4f");
      position(state.theme && state.theme.position);
      var m = state.member;
      launcher.textContent = (state.theme && state.theme.launcher_text) ||
        (m ? t("launcher") + " · " + num(m.points.available) : t("launcher"));
      launcher.hidden = false;
      claimReferral();
      if (!panel.hidden) render();
    });
  }

  /* Referrals: a friend arrives with ?ref=CODE; the code waits in this browser until the
     friend is signed in at the store, then the hub ties them to it (once). */
  var REF_KEY = "storefront-hub-ref:" + conf.connection, claimed = false;
  function rememberReferral() {
    try {
      var code = new URLSearchParams(window.location.search).get("ref");
      if (code) localStorage.setItem(REF_KEY, code.slice(0, 32));
    } catch (e) { /* storage blocked: the link still opens the store */ }
  }
  function claimReferral() {
    var code = null;
    try { code = localStorage.getItem(REF_KEY); } catch (e) { return; }
    if (!code || claimed || !state || !state.member) return;
    claimed = true;
    api("/referral", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: code }) }).then(function (res) {
      // A definite answer (tied, refused, unknown code) ends it; a busy hub is asked next visit.
      if (res.status !== 429 && res.status < 500) localStorage.removeItem(REF_KEY);
    }).catch(function () {});
  }

  function section(title, children, cls) {
    var id = "shw-" + title.replace(/\W+/g, "-").toLowerCase();
    return el("section", { "aria-labelledby": id, "class": cls || null },
      [el("h3", { id: id, text: title })].concat(children));
  }
  function bar(value, max, label) {
    var pct = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 100;
    return el("div", { "class": "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": String(pct), "aria-label": label }, [el("span", { style: "width:" + pct + "%" })]);
  }
  function copyButton(text, label, after) {
    return el("button", { "class": "act", type: "button", "aria-label": t("copy") + " " + label, text: t("copy"),
      onclick: function (e) {
        var btn = e.currentTarget;
        (navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject()).catch(function () {})
          .then(function () { btn.textContent = t("copied"); live.textContent = t("copied") + ": " + text; });
        if (after) after();
      } });
  }
  function amountOf(basis, value) { return basis === "spend" ? money(value) : tn("points", value); }
  function waysToEarn() {
    return section(t("waysToEarn"), [el("ul", {}, (state.ways_to_earn || []).map(function (w) {
      var text = w.kind === "purchase"
        ? t("earnPurchase", { points: tn("points", w.points), amount: money(w.amount) })
        : w.kind === "action"
          ? (typeof T["action_" + w.action] === "string" ? T["action_" + w.action] : w.title || w.action)
          : (typeof T["earn_" + w.kind] === "string" ? T["earn_" + w.kind] : w.kind);
      var m = state.member, done = w.kind === "action" && m && m.actions && m.actions[w.action] === "done";
      var right = done ? el("span", { "class": "muted way-done", text: "✓ " + t("done") })
        : (w.points && w.kind !== "purchase" ? el("span", { "class": "muted", text: tn("earnPoints", w.points) }) : null);
      return el("li", {}, [el("span", { text: text }), right]);
    }))]);
  }
  function tiers() {
    return section(t("tiers"), [el("ul", {}, (state.tiers || []).map(function (tr) {
      return el("li", { "class": "tier" }, [el("b", { text: tr.name }), document.createTextNode(" "),
        el("span", { "class": "muted", text: t("tierFrom", { threshold: amountOf(tr.basis, tr.threshold) }) }),
        tr.benefits ? el("div", { "class": "muted", text: tr.benefits }) : null]);
    }))]);
  }
  var confirming = null;
  function rewards(m) {
    var available = m ? m.points.available : 0;
    return section(t("rewards"), [el("ul", {}, (state.rewards || []).map(function (r) {
      var enough = m && available >= r.points_cost;
      var label = r.name + " — " + tn("points", r.points_cost);
      if (m && confirming === r.id) return el("li", { "class": "ask" }, [
        el("div", { text: t("redeemAsk", { points: tn("points", r.points_cost), reward: r.name }) }),
        el("div", { "class": "row" }, [
          el("button", { "class": "act", type: "button", "data-confirm": String(r.id), text: t("confirm"),
            onclick: function (e) { redeem(r, e.currentTarget); } }),
          el("button", { "class": "act ghost", type: "button", text: t("cancel"),
            onclick: function () { confirming = null; render(); } })])]);
      var right = m
        ? el("button", { "class": "act", type: "button", disabled: enough ? null : "", "aria-label": t("redeem") + " " + r.name,
            text: enough ? t("redeem") : tn("needMore", r.points_cost - available),
            onclick: function () { confirming = r.id; render(); focusOn("[data-confirm='" + r.id + "']"); } })
        : null;
      return el("li", {}, [el("div", {}, [el("div", { text: label }),
        m ? bar(available, r.points_cost, label) : null]), right]);
    }))]);
  }
  function focusOn(selector) { var node = panel.querySelector(selector); if (node) node.focus(); }
  function redeem(reward, button) {
    button.disabled = true;
    api("/redeem", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ reward_id: reward.id }) }).then(function (res) {
      if (!res.ok) throw new Error((res.body.error && res.body.error.message) || res.status);
      confirming = null;
      track("spend_virtual_currency", { value: reward.points_cost, virtual_currency_name: "loyalty_points",
        item_name: reward.name });
      notice(t("redeemed", { code: res.body.voucher.code }), false);
      return load();
    }).catch(function (e) { confirming = null; notice(t("error", { msg: e.message }), true); });
  }
  var message = null;
  function notice(text, isError) { message = { text: text, error: isError }; live.textContent = text; render(); }

  function guest() {
    var joinUrl = state.join_url, signInUrl = state.sign_in_url;
    panel.appendChild(section(t("title"), [el("p", { text: t("guestPitch", { shop: state.shop }) }),
      el("div", { "class": "row" }, [
        joinUrl ? el("a", { "class": "act", href: joinUrl, text: t("join"),
          onclick: function () { track("join_group", { group_id: "loyalty" }); } }) : null,
        signInUrl ? el("a", { "class": "act ghost", href: signInUrl, "aria-label": t("signInAsk") + " " + t("signIn"),
          text: t("signIn") }) : null]),
      el("p", { "class": "muted", text: signInUrl ? t("signInAsk") : t("signInHint") })]));
    panel.appendChild(waysToEarn());
    if ((state.tiers || []).length) panel.appendChild(tiers());
    if ((state.rewards || []).length) panel.appendChild(rewards(null));
  }
  function tierSection(tier) {
    var children = [el("div", { "class": "big", style: "font-size:20px", text: (tier && tier.name) || t("noTier") })];
    if (tier && tier.benefits) children.push(el("p", { "class": "muted", text: tier.benefits }));
    if (tier && tier.next && Number(tier.delta_to_next) > 0) {
      var delta = amountOf(tier.basis, tier.delta_to_next);
      var text = t("nextTier", { delta: delta, name: tier.next.name });
      children.push(bar(Number(tier.progress), Number(tier.next.threshold), text));
      children.push(el("p", { text: text }));
    } else if (tier) children.push(el("p", { text: t("topTier") }));
    if (tier && tier.retain_on && Number(tier.delta_to_retain) > 0) {
      children.push(el("p", { "class": "muted retain", text: t("retain", { name: tier.name, date: tier.retain_on,
        threshold: amountOf(tier.basis, tier.threshold), delta: amountOf(tier.basis, tier.delta_to_retain) }) }));
    }
    return section(t("tier"), children);
  }
  function memberCode(m) {
    var qr = el("div", { "class": "qr", role: "img", "aria-label": t("code") + " " + m.code });
    if (m.qr_svg) {
      var svg = new DOMParser().parseFromString(m.qr_svg, "image/svg+xml").documentElement;
      if (svg instanceof SVGSVGElement) qr.appendChild(document.importNode(svg, true));
    }
    return section(t("code"), [el("div", { "class": "code", text: m.code }), qr,
      el("p", { "class": "muted", text: t("showQr") })]);
  }
  function shareLinks(url, share) {
    // Zalo's share page reads the link from ``d`` (base64 of {"url": ...}), as its own share
    // button sends it; Messenger's app opens from fb-messenger://share; SMS puts the text in the
    // body ("?&body=" is read by both iOS and Android).
    var zalo = btoa(String.fromCharCode.apply(null, new TextEncoder().encode(JSON.stringify({ url: url }))));
    return [
      { method: "zalo", label: "shareZalo", target: "_blank",
        href: "https://button-share.zalo.me/share_external?layout=1&color=blue&customize=false&url=" +
          encodeURIComponent(url) + "&d=" + encodeURIComponent(zalo) },
      { method: "messenger", label: "shareMessenger", href: "fb-messenger://share/?link=" + encodeURIComponent(url) },
      { method: "sms", label: "shareSms", href: "sms:?&body=" + encodeURIComponent(share) }];
  }
  function referral(m) {
    var url = new URL(m.referral_url, window.location.href).href;
    var share = t("shareText", { shop: state.shop, url: url });
    function shared(method) { return function () { track("share", { method: method, content_type: "referral", item_id: m.referrals ? m.referrals.code : null }); }; }
    return section(t("referral"), [el("p", { text: t("referralPitch") }),
      el("div", { "class": "code link", text: url }),
      el("div", { "class": "row" }, [copyButton(url, t("referral"), shared("copy"))].concat(
        shareLinks(url, share).map(function (s) {
          // Each is an ordinary link the shopper follows: the widget itself calls no one.
          return el("a", { "class": "act ghost", href: s.href, target: s.target, rel: "noopener noreferrer",
            "aria-label": t("shareVia", { app: t(s.label) }), text: t(s.label), onclick: shared(s.method) });
        }))),
      m.referrals ? el("p", { "class": "muted", text: t("referralResults",
        { joined: num(m.referrals.joined), rewarded: num(m.referrals.rewarded) }) }) : null]);
  }
  function activityText(a) {
    if (a.kind === "order") return t("activityOrder", { number: a.order || "" });
    if (a.kind === "refund") return t("activityRefund", { number: a.order || "" });
    if (a.kind === "redeem" && a.reward) return t("activityRedeem", { reward: a.reward });
    if (a.kind === "event" && typeof T["action_" + a.action] === "string") return T["action_" + a.action];
    return typeof T["activity_" + a.kind] === "string" ? T["activity_" + a.kind] : a.kind;
  }
  function activity(m) {
    return section(t("activity"), [el("ul", {}, m.activity.map(function (a) {
      return el("li", {}, [el("span", { "class": "muted", text: a.on }), el("span", { text: activityText(a) }),
        el("span", { "class": "pts", text: (a.points > 0 ? "+" : "") + tn("points", a.points) })]);
    }))], "activity");
  }
  function member(m) {
    panel.appendChild(section(t("available"), [
      el("div", { "class": "big", text: tn("points", m.points.available) }),
      m.points.pending ? el("div", { "class": "muted", text: t("pending") + ": " + tn("points", m.points.pending) }) : null]));
    panel.appendChild(tierSection(m.tier));
    if ((m.expiring || []).length) panel.appendChild(section(t("expiring"), [el("ul", {}, m.expiring.map(function (x) {
      return el("li", { text: t("expiringRow", { points: tn("points", x.points), date: x.expires_on }) });
    }))]));
    if ((state.rewards || []).length) panel.appendChild(rewards(m));
    panel.appendChild(section(t("vouchers"), m.vouchers.length ? [el("ul", {}, m.vouchers.map(function (v) {
      return el("li", {}, [el("div", {}, [el("div", { "class": "code", text: v.code }),
        el("div", { "class": "muted", text: v.name + (v.expires_on ? " · " + t("voucherExpires", { date: v.expires_on }) : "") })]),
        copyButton(v.code, v.name)]);
    }))] : [el("p", { "class": "muted", text: t("noVouchers") })]));
    panel.appendChild(memberCode(m));
    if (m.referral_url) panel.appendChild(referral(m));
    panel.appendChild(waysToEarn());
    if ((m.activity || []).length) panel.appendChild(activity(m));
  }

  function render() {
    if (panel.hidden || !state) return;
    panel.textContent = "";
    var m = state.member;
    panel.appendChild(el("div", { "class": "head" }, [
      el("h2", { id: "shw-title", text: m ? (m.name ? t("hello", { name: m.name }) : t("helloNoName")) : t("title") }),
      el("p", { text: state.shop }),
      el("button", { "class": "x", type: "button", "aria-label": t("close"), text: "×", onclick: close })
    ]));
    if (message) panel.appendChild(el("div", { "class": "note" + (message.error ? " err" : ""), text: message.text }));
    if (m) member(m); else guest();
  }

  function start() {
    rememberReferral();
    document.body.appendChild(host);
    load().catch(function () { state = null; });
    if (conf.tokenUrl) {
      setInterval(function () { freshToken().then(load).catch(function () {}); }, 240000);
    }
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
