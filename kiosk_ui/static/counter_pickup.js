/* The counter's 存入取件柜 form: a door opens for the result, the clerk puts it in and shuts the
   door; the slip with the pickup code is printed from this page (the browser's printer). */
"use strict";
(function () {
  const root = document.getElementById("counter");
  const form = document.getElementById("pickup-form");
  const slip = document.getElementById("pickup-slip");
  if (!root || !form || !slip) return;
  document.body.appendChild(slip);   // printed alone (area.css: body.printing-slip)
  const $ = function (id) { return document.getElementById(id); };
  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    const out = $("pickup-status");
    const kind = form.querySelector("input[name=for]:checked").value;
    out.className = "status"; out.textContent = "正在开柜…";
    $("pickup-print").hidden = true;
    const r = await HWD.api(root.dataset.base + "/deposit",
                            {for: kind, case_no: $("pickup-case").value, id_number: $("pickup-id").value});
    out.className = "status" + (r.ok ? "" : " bad");
    if (!r.ok) { out.textContent = r.error || "没有成功"; return; }
    const d = r.deposit;
    const what = (d.number ? d.number + "号" : "") + (d.case_no ? " 办件编号 " + d.case_no : "");
    out.textContent = d.label + "已打开：请放入" + what + "的办理结果并关好柜门。取件码 " + d.code;
    $("slip-hall").textContent = d.hall;
    $("slip-what").textContent = what + "  " + d.label;
    $("slip-code").textContent = d.code;
    $("slip-at").textContent = new Date().toLocaleString("zh-CN");
    $("pickup-print").hidden = false;
    $("pickup-case").value = ""; $("pickup-id").value = "";
  });
  $("pickup-print").addEventListener("click", function () {
    document.body.classList.add("printing-slip");
    window.print();
    document.body.classList.remove("printing-slip");
  });
})();
