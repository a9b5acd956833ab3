/*
 * Wholeplace maps and charts. Each map or chart is an element naming a JSON script element
 * that holds its data; the server decides the classes and colours, so the picture, its key
 * and its table always agree. Runs on page load and on every part of the page htmx swaps in.
 * Everything comes from our own server: no tile layer, no CDN.
 */
(function () {
  "use strict";

  var geojsonCache = {};

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function colourFor(classes, value) {
    for (var i = 0; i < classes.length; i++) {
      if (value <= classes[i].high) { return classes[i].colour; }
    }
    return classes[classes.length - 1].colour;
  }

  function fetchGeojson(url) {
    if (!geojsonCache[url]) {
      geojsonCache[url] = fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) { throw new Error("boundaries could not be loaded: " + response.status); }
        return response.json();
      });
    }
    return geojsonCache[url];
  }

  function drawMap(element) {
    var data = readJson(element.getAttribute("data-wp-map"));
    if (!data || typeof L === "undefined") { return; }
    element.innerHTML = "";
    var map = L.map(element, { attributionControl: false, zoomSnap: 0.25, scrollWheelZoom: false });
    fetchGeojson(element.getAttribute("data-geojson-url")).then(function (geojson) {
      var layer = L.geoJSON(geojson, {
        style: function (feature) {
          var count = data.counts[feature.properties.code];
          // null: a small count hidden by disclosure control, drawn in its own colour
          var fill = count === null ? data.hidden_colour : colourFor(data.classes, count || 0);
          return { fillColor: fill, fillOpacity: 0.85, color: "#505a5f", weight: 0.6 };
        },
        onEachFeature: function (feature, shape) {
          var count = data.counts[feature.properties.code];
          var shown = count === null ? data.hidden + " (a small number, hidden)" : (count || 0).toLocaleString("en-GB");
          shape.bindTooltip(feature.properties.name + ": " + shown + " " + (data.unit || "events"), { sticky: true });
        }
      }).addTo(map);
      map.fitBounds(layer.getBounds());
      element.setAttribute("data-rendered", "true");
    }).catch(function (error) {
      element.innerHTML = '<p class="govuk-body govuk-!-padding-3">The map could not be drawn (' + error.message +
        "). The table below has the same figures.</p>";
    });
  }

  function drawChart(element) {
    var spec = readJson(element.getAttribute("data-wp-chart"));
    if (!spec || typeof vegaEmbed === "undefined") { return; }
    element.innerHTML = "";
    vegaEmbed(element, spec, { actions: false, renderer: "svg" }).then(function () {
      element.setAttribute("data-rendered", "true");
    });
  }

  function draw(root) {
    root.querySelectorAll("[data-wp-map]").forEach(drawMap);
    root.querySelectorAll("[data-wp-chart]").forEach(drawChart);
  }

  if (typeof htmx !== "undefined") {
    // htmx.onLoad runs for the whole page once, then for each piece of content swapped in.
    htmx.onLoad(draw);
    // Focus stays on the filter just changed (moving it would be a change of context); a
    // polite status message tells screen reader users the results below were updated.
    document.body.addEventListener("htmx:afterSwap", function () {
      var status = document.getElementById("results-status");
      var heading = document.getElementById("results-heading");
      if (status && heading) { status.textContent = "Results updated. " + heading.textContent.trim(); }
    });
  } else {
    document.addEventListener("DOMContentLoaded", function () { draw(document); });
  }
})();
