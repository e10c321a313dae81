/* The gallery: from __NEXT_DATA__, else window.__PRELOADED_STATE__, else the gallery endpoint. */
(function () {
  "use strict";
  var C = {{ classes }};
  var gallery = document.querySelector("." + C.gallery);
  var listing = JSON.parse(document.getElementById("__NEXT_DATA__").textContent).props.pageProps.listing;
  function srcset(url) {
    var m = url.match(/^(?:https?:)?(?:\/\/[^\/]+)?(\/cdn\/(?:p\/)?photos\/[0-9a-f]+)\.jpg$/);
    if (!m) return url + " 640w";
    return m[1] + ".jpg?w=160&h=90 160w, " + m[1] + ".jpg?w=320&h=180 320w";
  }
  function show(urls) {
    urls.forEach(function (url, i) {
      var img = document.createElement("img");
      img.className = C.slide;
      img.setAttribute("alt", "photo " + (i + 1));
      img.setAttribute("srcset", srcset(url));
      img.setAttribute("sizes", "320px");
      gallery.appendChild(img);
    });
  }
  if (listing.gallery) { show(listing.gallery.map(function (g) { return g.url; })); return; }
  var state = window.__PRELOADED_STATE__;
  if (state && state.listing && state.listing.gallery) {
    show(state.listing.gallery.map(function (g) { return g.src; }));
    return;
  }
  var tries = 0;
  (function fetchGallery() {
    fetch("/api/v1/listings/" + encodeURIComponent(listing.id) + "/gallery")
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (d) { show(d.images.map(function (x) { return x.full; })); })
      .catch(function () { if (++tries < 6) setTimeout(fetchGallery, 600); });
  })();
})();
