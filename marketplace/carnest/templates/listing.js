/* Infinite scroll: next pages from the search API, appended as cards; an empty page ends it quietly. */
(function () {
  "use strict";
  var C = {{ classes }};
  var PLACEHOLDER = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";
  var data = JSON.parse(document.getElementById("__NEXT_DATA__").textContent);
  var search = data.props.pageProps.search;
  var page = search.page, size = search.size, busy = false, done = false;
  var grid = document.querySelector("." + C.grid);
  var sentinel = document.querySelector("." + C.sentinel);
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function fullPath(url) {  /* the CDN's own rule: drop the host, the -cr-NN suffix and the size query */
    return url.replace(/^(https?:)?\/\/[^\/]+/, "").replace(/(-cr-\d+)?\.jpg(\?.*)?$/, ".jpg");
  }
  function indian(n) {
    var s = String(n), tail = s.slice(-3), head = s.slice(0, -3);
    return head ? head.replace(/\B(?=(\d{2})+(?!\d))/g, ",") + "," + tail : tail;
  }
  function listingCard(it) {
    var card = el("div", C.card), link = el("a", C.link), media = el("div", C.media);
    link.setAttribute("href", it.url);
    var cover = fullPath(it.images[0].small.url);
    var picture = el("picture"), source = el("source"), img = el("img", C.thumb);
    source.setAttribute("media", "(min-width: 900px)");
    source.setAttribute("srcset", cover + "?w=320&h=180 1x");
    img.setAttribute("alt", it.title.main);
    img.setAttribute("loading", "lazy");
    img.setAttribute("src", PLACEHOLDER);
    img.setAttribute("srcset", cover + "?w=160&h=90 160w, " + cover + "?w=320&h=180 320w");
    img.setAttribute("sizes", "(max-width: 600px) 160px, 320px");
    picture.appendChild(source); picture.appendChild(img); media.appendChild(picture); link.appendChild(media);
    var body = el("div", C.body), title = el("h3", C.title);
    if (it.sponsored) title.appendChild(el("span", C.badge, "Sponsored"));
    if (it.ui && it.ui.titleWords) {
      it.title.main.split(" ").forEach(function (w) { title.appendChild(el("span", null, w)); });
    } else {
      title.appendChild(document.createTextNode(it.title.main));
    }
    body.appendChild(title);
    if (it.title.variant) body.appendChild(el("p", C.variant, it.title.variant));
    var specs = el("ul", C.specs);
    [String(it.year), indian(it.km) + " km", it.fuelType, it.transmission].forEach(function (t) {
      specs.appendChild(el("li", null, t));
    });
    body.appendChild(specs);
    body.appendChild(el("div", C.price, it.price.display));
    var loc = el("div", C.location);
    loc.appendChild(el("span", C.locality, it.location.locality));
    loc.appendChild(document.createTextNode(", "));
    loc.appendChild(el("span", C.city, it.location.city));
    body.appendChild(loc);
    link.appendChild(body); card.appendChild(link);
    return card;
  }
  function promoCard(it) {
    var card = el("div", C.card), body = el("div", C.body);
    body.appendChild(el("strong", null, it.headline));
    if (it.cta.url) {
      var link = el("a", C.link);
      link.setAttribute("href", it.cta.url);
      body.appendChild(el("p", null, it.text));
      body.appendChild(el("span", null, it.cta.label));
      link.appendChild(body); card.appendChild(link);
    } else {
      body.appendChild(el("p", null, it.text));
      var button = el("button", null, it.cta.label);
      button.setAttribute("type", "button");
      body.appendChild(button);
      card.appendChild(body);
    }
    return card;
  }
  function inView() {
    return sentinel.getBoundingClientRect().top < window.innerHeight + 200;
  }
  function load() {
    if (busy || done) return;
    busy = true;
    fetch("/api/v1/search?city={{ city }}&page=" + (page + 1) + "&size=" + size)
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (d) {
        var listings = d.results.filter(function (x) { return x.type === "listing"; });
        if (!listings.length) { done = true; return; }
        d.results.forEach(function (x) { grid.appendChild(x.type === "listing" ? listingCard(x) : promoCard(x)); });
        page += 1;
      })
      .catch(function () { /* tried again on the next scroll */ })
      .finally(function () {
        busy = false;
        if (!done && inView()) setTimeout(load, 50);
      });
  }
  new IntersectionObserver(function (entries) {
    if (entries.some(function (e) { return e.isIntersecting; })) load();
  }, {rootMargin: "200px"}).observe(sentinel);
})();
