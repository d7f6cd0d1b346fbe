// Address autocomplete: turns the search field of each address picker into a
// WAI-ARIA combobox (list autocomplete). Without this file the picker still works as a
// search-then-choose form; choosing a suggestion checks the matching radio button.
(function () {
  "use strict";
  if (window.villeAddressAutocomplete) return; // the include may appear more than once
  window.villeAddressAutocomplete = true;

  var MIN_CHARS = 3;
  var DELAY_MS = 250;
  var LIMIT = 8;

  function format(template, count) {
    return template.replace("%(count)s", String(count));
  }

  function enhance(picker) {
    var prefix = picker.getAttribute("data-prefix");
    var input = document.getElementById("id_" + prefix + "_query");
    var status = document.getElementById("id_" + prefix + "_status");
    var optionsBox = document.getElementById("id_" + prefix + "_options");
    if (!input || !status || !optionsBox) return;

    var listId = "id_" + prefix + "_listbox";
    var wrapper = document.createElement("div");
    wrapper.className = "address-picker-combo";
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "address-picker-listbox";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", picker.getAttribute("data-label-choose"));
    list.hidden = true;
    wrapper.appendChild(list);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    // The browser's own autofill list would cover ours.
    input.setAttribute("autocomplete", "off");

    var results = [];
    var active = -1;
    var timer = null;
    var controller = null;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function setActive(index) {
      var items = list.children;
      if (active >= 0 && items[active]) items[active].setAttribute("aria-selected", "false");
      active = index;
      if (active >= 0 && items[active]) {
        items[active].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", items[active].id);
        items[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render() {
      list.textContent = "";
      results.forEach(function (address, index) {
        var item = document.createElement("li");
        item.id = listId + "_" + index;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        // Labels are French street names: isolated so that they read well in Arabic too.
        var text = document.createElement("bdi");
        text.lang = "fr";
        text.textContent = address.label;
        item.appendChild(text);
        if (address.district) {
          var district = document.createElement("span");
          district.className = "muted";
          district.textContent = address.district;
          item.appendChild(district);
        }
        // mousedown, not click: choose before the input loses focus and closes the list.
        item.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(index);
        });
        list.appendChild(item);
      });
      active = -1;
      if (results.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      } else {
        close();
      }
      var count = results.length;
      status.textContent = count === 0
        ? picker.getAttribute("data-label-none")
        : format(picker.getAttribute(count === 1 ? "data-label-one" : "data-label-many"), count);
    }

    function radioFor(address) {
      var id = "id_" + prefix + "_" + address.id;
      var radio = document.getElementById(id);
      if (radio) return radio;
      var group = optionsBox.querySelector("fieldset");
      if (!group) {
        group = document.createElement("fieldset");
        var legend = document.createElement("legend");
        legend.textContent = picker.getAttribute("data-label-choose");
        group.appendChild(legend);
        optionsBox.appendChild(group);
      }
      var row = document.createElement("div");
      row.className = "radio";
      radio = document.createElement("input");
      radio.type = "radio";
      radio.name = prefix;
      radio.id = id;
      radio.value = String(address.id);
      var label = document.createElement("label");
      label.htmlFor = id;
      var text = document.createElement("bdi");
      text.lang = "fr";
      text.textContent = address.label;
      label.appendChild(text);
      row.appendChild(radio);
      row.appendChild(document.createTextNode(" "));
      row.appendChild(label);
      var legendNode = group.querySelector("legend");
      group.insertBefore(row, legendNode ? legendNode.nextSibling : group.firstChild);
      return radio;
    }

    function choose(index) {
      var address = results[index];
      if (!address) return;
      input.value = address.label;
      radioFor(address).checked = true;
      close();
      status.textContent = picker.getAttribute("data-label-selected") + " " + address.label;
    }

    function fetchSuggestions() {
      var query = input.value.trim();
      if (query.length < MIN_CHARS) {
        results = [];
        close();
        return;
      }
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      var url = picker.getAttribute("data-url") +
        "?q=" + encodeURIComponent(query) + "&limit=" + LIMIT;
      fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (body) {
          results = Array.isArray(body.results) ? body.results : [];
          render();
        })
        .catch(function () { /* aborted or offline: the Search button still works */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(fetchSuggestions, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var open = !list.hidden && results.length > 0;
      switch (event.key) {
        case "ArrowDown":
          if (!open) { if (results.length) { render(); } else { fetchSuggestions(); } }
          else { setActive((active + 1) % results.length); }
          event.preventDefault();
          break;
        case "ArrowUp":
          if (open) { setActive(active <= 0 ? results.length - 1 : active - 1); event.preventDefault(); }
          break;
        case "Enter":
          // Enter on a highlighted suggestion chooses it instead of submitting the form.
          if (open && active >= 0) { choose(active); event.preventDefault(); }
          break;
        case "Escape":
          if (open) { close(); event.preventDefault(); }
          else if (input.value) { input.value = ""; event.preventDefault(); }
          break;
        case "Tab":
          close();
          break;
        default:
          break;
      }
    });

    input.addEventListener("blur", function () {
      window.setTimeout(close, 150);
    });
  }

  function start() {
    var pickers = document.querySelectorAll("[data-address-picker]");
    Array.prototype.forEach.call(pickers, enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
