// Embed the SlotWise booking widget: <script src=".../widget/widget.js" data-service="ID" data-token="..."></script>
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var base = new URL(".", script.src);
  var service = script.getAttribute("data-service") || "";
  var token = script.getAttribute("data-token") || "";
  var frame = document.createElement("iframe");
  frame.src = new URL("./?service=" + encodeURIComponent(service), base).href;
  frame.title = script.getAttribute("data-title") || "Book an appointment";
  frame.style.cssText = "width:100%;max-width:32rem;min-height:28rem;border:0;display:block";
  function send() {
    if (token && frame.contentWindow) {
      frame.contentWindow.postMessage({ type: "slotwise-token", token: token }, base.origin);
    }
  }
  frame.addEventListener("load", send);
  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || !event.data) return;
    if (event.data.type === "slotwise-ready") send();
    if (event.data.type === "slotwise-height") frame.style.height = event.data.height + 16 + "px";
    if (event.data.type === "slotwise-payment") {
      // Hand the client secret to the embedding site, which confirms it with Stripe.js.
      script.dispatchEvent(new CustomEvent("slotwise:payment", { detail: event.data, bubbles: true }));
    }
  });
  script.insertAdjacentElement("afterend", frame);
  window.SlotWiseWidget = {
    setToken: function (value) {
      token = value;
      send();
    },
  };
})();
