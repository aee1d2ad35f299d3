// The cashier window's preload: its launch (the local API and token) and opening the manager window.
import { contextBridge, ipcRenderer } from 'electron';
import { CHANNELS, type CashierBridge, type LaunchInfo } from '../bridge.ts';

const bridge: CashierBridge = {
  getLaunch: () => ipcRenderer.invoke(CHANNELS.getLaunch) as Promise<LaunchInfo>,
  openManager: () => ipcRenderer.invoke(CHANNELS.openManager) as Promise<void>,
};
contextBridge.exposeInMainWorld('tillback', bridge);
