// Arrow keys: left and right to the previous and next unit, up to the layer (or the index).
document.addEventListener("keydown", function (event) {
  if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
  var id = {ArrowLeft: "prev", ArrowRight: "next", ArrowUp: "up"}[event.key];
  var link = id ? document.getElementById(id) : null;
  if (link) { window.location.href = link.href; }
});
