// Every route is prerendered as an app shell; all data lives on the device.
export const prerender = true;
