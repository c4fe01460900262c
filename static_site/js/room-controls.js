// The room's two buttons that ask first, Destroy and Leave, each behind its dialog
// (room.html). What happens then is the room page's: leave(ending) takes it to the lobby.
import { api } from "./api.js";
import { t } from "./i18n.js";
import { toast } from "./toast.js";

const $ = (id) => document.getElementById(id);

/**
 * leave(ending): the room is over for this page; destroying(flag): this page asked for the
 * destroy (so a push of it says "you destroyed"); notDestroyed(): the dialog closed without
 * destroying (a key change not accepted asks again).
 */
export function setUpLeaveAndDestroy({ roomId, leave, destroying, notDestroyed }) {
  const destroyDialog = $("confirm-destroy");
  $("destroy").addEventListener("click", () => destroyDialog.showModal());
  destroyDialog.addEventListener("close", async () => {
    if (destroyDialog.returnValue !== "destroy") return notDestroyed();
    destroyDialog.returnValue = "";
    destroying(true);
    try {
      await api.destroyRoom(roomId);
    } catch (error) {
      if (error.status !== 404) { // a 404: it is gone already, as asked
        destroying(false);
        toast(t("room.destroyFailed", { reason: error.message }), "error");
        return;
      }
    }
    leave("destroyedByYou");
  });
  const leaveDialog = $("confirm-leave");
  $("leave").addEventListener("click", () => leaveDialog.showModal());
  leaveDialog.addEventListener("close", () => {
    if (leaveDialog.returnValue === "leave") leave("left");
    leaveDialog.returnValue = "";
  });
}
