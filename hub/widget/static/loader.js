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

  var TEXT = {
    vi: {
      launcher: "Điểm thưởng", title: "Khách hàng thân thiết", close: "Đóng",
      hello: "Xin chào", guestPitch: "Tham gia chương trình khách hàng thân thiết của {shop} để tích điểm và đổi quà.",
      join: "Tham gia ngay", signIn: "Đã là thành viên? Hãy đăng nhập để xem điểm của bạn.",
      available: "Điểm có thể dùng", pending: "Điểm đang chờ", points: "điểm",
      tier: "Hạng thành viên", noTier: "Chưa có hạng", nextTier: "Còn {delta} để lên hạng {name}",
      topTier: "Bạn đang ở hạng cao nhất", retain: "Cần thêm {delta} trước {date} để giữ hạng",
      expiring: "Điểm sắp hết hạn", expiringRow: "{points} điểm hết hạn ngày {date}",
      waysToEarn: "Cách tích điểm", rewards: "Đổi điểm lấy quà", redeem: "Đổi",
      needMore: "Cần thêm {n} điểm", vouchers: "Mã giảm giá của bạn", copy: "Sao chép",
      copied: "Đã sao chép", noVouchers: "Bạn chưa có mã giảm giá nào.",
      code: "Mã thành viên", showQr: "Đưa mã này cho thu ngân khi mua tại cửa hàng.",
      referral: "Giới thiệu bạn bè", activity: "Hoạt động gần đây",
      redeemed: "Đổi quà thành công! Mã của bạn: {code}", error: "Không thể thực hiện: {msg}",
      loadError: "Không tải được thông tin. Vui lòng thử lại sau.",
      earnPurchase: "{points} điểm cho mỗi {amount} chi tiêu",
      earn_birthday: "Thưởng điểm trong tháng sinh nhật", earn_first_order: "Thưởng đơn hàng đầu tiên",
      earn_signup: "Thưởng khi đăng ký", earn_product_bonus: "Thưởng thêm cho sản phẩm chọn lọc",
      earn_special_days: "Nhân điểm vào ngày đặc biệt", earn_tier_multiplier: "Nhân điểm theo hạng thành viên",
      kind_earn: "Tích điểm", kind_bonus: "Thưởng", kind_redeem: "Đổi quà", kind_reverse: "Hoàn điểm",
      kind_expire: "Hết hạn", kind_adjust: "Điều chỉnh", kind_import: "Số dư đầu kỳ"
    },
    en: {
      launcher: "Rewards", title: "Loyalty program", close: "Close",
      hello: "Hello", guestPitch: "Join the {shop} loyalty program to earn points and get rewards.",
      join: "Join now", signIn: "Already a member? Sign in to see your points.",
      available: "Points to spend", pending: "Pending points", points: "points",
      tier: "Your tier", noTier: "No tier yet", nextTier: "{delta} more to reach {name}",
      topTier: "You are in the top tier", retain: "{delta} more by {date} to keep your tier",
      expiring: "Points expiring soon", expiringRow: "{points} points expire on {date}",
      waysToEarn: "Ways to earn", rewards: "Rewards", redeem: "Redeem",
      needMore: "{n} more points", vouchers: "Your discount codes", copy: "Copy",
      copied: "Copied", noVouchers: "You have no discount codes yet.",
      code: "Member code", showQr: "Show this code at the counter when you shop in store.",
      referral: "Refer a friend", activity: "Recent activity",
      redeemed: "Redeemed! Your code: {code}", error: "Could not do that: {msg}",
      loadError: "Could not load your rewards. Please try again later.",
      earnPurchase: "{points} points for every {amount} spent",
      earn_birthday: "Bonus points in your birthday month", earn_first_order: "First order bonus",
      earn_signup: "Bonus for joining", earn_product_bonus: "Extra points on selected products",
      earn_special_days: "Multiplied points on special days", earn_tier_multiplier: "More points in higher tiers",
      kind_earn: "Earned", kind_bonus: "Bonus", kind_redeem: "Redeemed", kind_reverse: "Reversed",
      kind_expire: "Expired", kind_adjust: "Adjusted", kind_import: "Opening balance"
    }
  };
  var T = TEXT[conf.locale];
  var tag = conf.locale === "vi" ? "vi-VN" : "en-US";
  function t(key, vars) {
    var s = T[key] || key;
    for (var k in vars || {}) s = s.split("{" + k + "}").join(vars[k]);
    return s;
  }
  var state = null, currency = "VND", lastFocus = null;
  function num(n) { return new Intl.NumberFormat(tag).format(Number(n || 0)); }
  function money(v) {
    try {
      return new Intl.NumberFormat(tag, { style: "currency", currency: currency,
        maximumFractionDigits: currency === "VND" ? 0 : 2 }).format(Number(v || 0));
    } catch (e) { return num(v) + " " + currency; }
  }
  function day(iso) { return new Date(iso).toLocaleDateString(tag, { day: "numeric", month: "numeric", year: "numeric" }); }
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
  var css = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    ".launcher{position:fixed;bottom:20px;z-index:2147483000;border:0;border-radius:999px;padding:12px 18px;",
    "color:#fff;background:var(--c,#0b6e4f);font-size:15px;font-weight:600;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".launcher:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}",
    ".panel{position:fixed;bottom:80px;z-index:2147483001;width:370px;max-height:min(640px,calc(100vh - 100px));",
    "overflow:auto;background:#fff;color:#1d2430;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.3);font-size:14px;line-height:1.45}",
    ".right{right:20px}.left{left:20px}",
    ".head{background:var(--c,#0b6e4f);color:#fff;padding:16px 44px 16px 16px;position:sticky;top:0}",
    ".head h2{margin:0;font-size:17px}.head p{margin:4px 0 0}",
    ".x{position:absolute;top:10px;right:10px;background:transparent;border:0;color:#fff;font-size:22px;cursor:pointer;width:32px;height:32px}",
    "section{padding:12px 16px;border-bottom:1px solid #e7eaf0}section h3{margin:0 0 8px;font-size:14px}",
    ".big{font-size:28px;font-weight:700}.muted{color:#5b6575}",
    ".bar{height:8px;background:#e7eaf0;border-radius:4px;overflow:hidden;margin:6px 0}",
    ".bar span{display:block;height:100%;background:var(--c,#0b6e4f)}",
    "ul{list-style:none;margin:0;padding:0}li{padding:6px 0;display:flex;justify-content:space-between;gap:8px;align-items:center}",
    "button.act,a.act{background:var(--c,#0b6e4f);color:#fff;border:0;border-radius:8px;padding:7px 12px;font-size:13px;font-weight:600;cursor:pointer;text-decoration:none;display:inline-block}",
    "button[disabled]{background:#9aa3b0;cursor:not-allowed}",
    ".code{font-family:ui-monospace,Menlo,monospace;font-weight:700;letter-spacing:1px}",
    ".qr svg{width:128px;height:128px}",
    ".note{padding:10px 16px;background:#e9f6ef;color:#0b4d37}.err{background:#fdecea;color:#8a1c14}",
    "@media (max-width:480px){.panel{left:0;right:0;bottom:0;width:100%;max-height:85vh;border-radius:14px 14px 0 0}",
    ".launcher{bottom:12px}.right.launcher{right:12px}.left.launcher{left:12px}}"
  ].join("");
  root.appendChild(el("style", { text: css }));
  var launcher = el("button", { "class": "launcher", type: "button", "aria-haspopup": "dialog",
    "aria-expanded": "false", "aria-controls": "shw-panel", text: t("launcher") });
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
  }
  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
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
      currency = state.currency || "VND";
      root.host.style.setProperty("--c", (state.theme && state.theme.colour) || "#0b6e4f");
      position(state.theme && state.theme.position);
      var m = state.member;
      launcher.textContent = (state.theme && state.theme.launcher_text) ||
        (m ? t("launcher") + " · " + num(m.points.available) : t("launcher"));
      if (!panel.hidden) render();
    });
  }

  function section(title, children) {
    var id = "shw-" + title.replace(/\W+/g, "-").toLowerCase();
    return el("section", { "aria-labelledby": id }, [el("h3", { id: id, text: title })].concat(children));
  }
  function bar(value, max, label) {
    var pct = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 100;
    return el("div", { "class": "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": String(pct), "aria-label": label }, [el("span", { style: "width:" + pct + "%" })]);
  }
  function copyButton(text, label) {
    return el("button", { "class": "act", type: "button", "aria-label": t("copy") + " " + label, text: t("copy"),
      onclick: function (e) {
        var btn = e.currentTarget;
        (navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject()).catch(function () {})
          .then(function () { btn.textContent = t("copied"); live.textContent = t("copied") + ": " + text; });
      } });
  }
  function waysToEarn() {
    return section(t("waysToEarn"), [el("ul", {}, (state.ways_to_earn || []).map(function (w) {
      var text = w.kind === "purchase"
        ? t("earnPurchase", { points: num(w.points), amount: money(w.amount) })
        : (T["earn_" + w.kind] || w.kind);
      return el("li", { text: text });
    }))]);
  }
  function rewards(m) {
    var available = m ? m.points.available : 0;
    return section(t("rewards"), [el("ul", {}, (state.rewards || []).map(function (r) {
      var enough = m && available >= r.points_cost;
      var label = r.name + " — " + num(r.points_cost) + " " + t("points");
      var right = m
        ? el("button", { "class": "act", type: "button", disabled: enough ? null : "", "aria-label": t("redeem") + " " + r.name,
            text: enough ? t("redeem") : t("needMore", { n: num(r.points_cost - available) }),
            onclick: function (e) { redeem(r, e.currentTarget); } })
        : null;
      var li = el("li", {}, [el("div", {}, [el("div", { text: label }),
        m ? bar(available, r.points_cost, label) : null]), right]);
      return li;
    }))]);
  }
  function redeem(reward, button) {
    button.disabled = true;
    api("/redeem", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ reward_id: reward.id }) }).then(function (res) {
      if (!res.ok) throw new Error((res.body.error && res.body.error.message) || res.status);
      notice(t("redeemed", { code: res.body.voucher.code }), false);
      return load();
    }).catch(function (e) { notice(t("error", { msg: e.message }), true); button.disabled = false; });
  }
  var message = null;
  function notice(text, isError) { message = { text: text, error: isError }; live.textContent = text; render(); }

  function render() {
    if (panel.hidden) return;
    panel.textContent = "";
    var m = state && state.member;
    var head = el("div", { "class": "head" }, [
      el("h2", { id: "shw-title", text: m ? t("hello") + (m.name ? ", " + m.name : "") : t("title") }),
      el("p", { text: state ? state.shop : "" }),
      el("button", { "class": "x", type: "button", "aria-label": t("close"), text: "×", onclick: close })
    ]);
    panel.appendChild(head);
    if (message) panel.appendChild(el("div", { "class": "note" + (message.error ? " err" : ""), text: message.text }));
    if (!state) { panel.appendChild(el("section", { text: t("loadError") })); return; }
    if (!m) {
      panel.appendChild(section(t("title"), [el("p", { text: t("guestPitch", { shop: state.shop }) }),
        state.join_url ? el("a", { "class": "act", href: state.join_url, text: t("join") }) : null,
        el("p", { "class": "muted", text: t("signIn") })]));
      panel.appendChild(waysToEarn());
      if ((state.rewards || []).length) panel.appendChild(rewards(null));
      return;
    }
    panel.appendChild(section(t("available"), [
      el("div", { "class": "big", text: num(m.points.available) + " " + t("points") }),
      m.points.pending ? el("div", { "class": "muted", text: t("pending") + ": " + num(m.points.pending) }) : null]));
    var tier = m.tier;
    var tierChildren = [el("div", { "class": "big", style: "font-size:20px", text: (tier && tier.name) || t("noTier") })];
    if (tier && tier.benefits) tierChildren.push(el("p", { "class": "muted", text: tier.benefits }));
    if (tier && tier.next) {
      var spend = tier.basis === "spend";
      var delta = spend ? money(tier.delta_to_next) : num(tier.delta_to_next) + " " + t("points");
      tierChildren.push(bar(Number(tier.progress), Number(tier.next.threshold), t("nextTier", { delta: delta, name: tier.next.name })));
      tierChildren.push(el("p", { text: t("nextTier", { delta: delta, name: tier.next.name }) }));
    } else if (tier) tierChildren.push(el("p", { text: t("topTier") }));
    if (tier && tier.retain_by && Number(tier.delta_to_retain) > 0) {
      var keep = tier.basis === "spend" ? money(tier.delta_to_retain) : num(tier.delta_to_retain) + " " + t("points");
      tierChildren.push(el("p", { "class": "muted", text: t("retain", { delta: keep, date: day(tier.retain_by) }) }));
    }
    panel.appendChild(section(t("tier"), tierChildren));
    if ((m.expiring || []).length) panel.appendChild(section(t("expiring"), [el("ul", {}, m.expiring.map(function (x) {
      return el("li", { text: t("expiringRow", { points: num(x.points), date: day(x.expires_at) }) });
    }))]));
    if ((state.rewards || []).length) panel.appendChild(rewards(m));
    panel.appendChild(section(t("vouchers"), m.vouchers.length ? [el("ul", {}, m.vouchers.map(function (v) {
      return el("li", {}, [el("div", {}, [el("div", { "class": "code", text: v.code }),
        el("div", { "class": "muted", text: v.name + (v.expires_at ? " · " + day(v.expires_at) : "") })]),
        copyButton(v.code, v.name)]);
    }))] : [el("p", { "class": "muted", text: t("noVouchers") })]));
    var qr = el("div", { "class": "qr", role: "img", "aria-label": t("code") + " " + m.code });
    if (m.qr_svg) {
      var svg = new DOMParser().parseFromString(m.qr_svg, "image/svg+xml").documentElement;
      if (svg && svg.nodeName === "svg") qr.appendChild(document.importNode(svg, true));
    }
    panel.appendChild(section(t("code"), [el("div", { "class": "code", text: m.code }), qr,
      el("p", { "class": "muted", text: t("showQr") })]));
    if (m.referral_url) panel.appendChild(section(t("referral"), [el("li", {}, [
      el("span", { "class": "muted", text: m.referral_url }), copyButton(m.referral_url, t("referral"))])]));
    panel.appendChild(waysToEarn());
    if ((m.activity || []).length) panel.appendChild(section(t("activity"), [el("ul", {}, m.activity.map(function (a) {
      return el("li", {}, [el("span", { text: (T["kind_" + a.kind] || a.kind) + (a.note ? " · " + a.note : "") }),
        el("span", { text: (a.points > 0 ? "+" : "") + num(a.points) })]);
    }))]));
  }

  function start() {
    document.body.appendChild(host);
    load().catch(function () { state = null; });
    if (conf.tokenUrl) {
      setInterval(function () { freshToken().then(load).catch(function () {}); }, 240000);
    }
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
