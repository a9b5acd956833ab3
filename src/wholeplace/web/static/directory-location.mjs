// "Use my current position" on the directory search: progressive enhancement. Without JavaScript, or
// without geolocation, the button stays hidden and the postcode search works as before.
const box = document.getElementById("use-location");
const button = document.getElementById("use-location-button");
const status = document.getElementById("location-status");
if (box && button && "geolocation" in navigator) {
  box.hidden = false;
  button.addEventListener("click", () => {
    status.textContent = " Finding your position…";
    navigator.geolocation.getCurrentPosition((position) => {
      document.getElementById("latitude").value = position.coords.latitude.toFixed(5);
      document.getElementById("longitude").value = position.coords.longitude.toFixed(5);
      document.getElementById("postcode").value = "";
      document.getElementById("directory-search").submit();
    }, () => {
      status.textContent = " Your position is not available: enter a postcode instead.";
    }, {enableHighAccuracy: false, timeout: 10000, maximumAge: 60000});
  });
}
